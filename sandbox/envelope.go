package sandbox

// wireEnvelope is a notification body with its fields in WeChat Pay's order
// (id, create_time, resource_type, event_type, summary, resource), not
// alphabetical: a framework that re-encodes the body before verifying it
// fails here as it would in production.
type wireEnvelope struct {
	ID           string       `json:"id"`
	CreateTime   string       `json:"create_time"`
	ResourceType string       `json:"resource_type"`
	EventType    string       `json:"event_type"`
	Summary      string       `json:"summary"`
	Resource     wireResource `json:"resource"`
}

// wireResource is the encrypted resource, in WeChat Pay's order.
type wireResource struct {
	OriginalType   string `json:"original_type"`
	Algorithm      string `json:"algorithm"`
	Ciphertext     string `json:"ciphertext"`
	AssociatedData string `json:"associated_data"`
	Nonce          string `json:"nonce"`
}
