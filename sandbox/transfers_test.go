package sandbox

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/auth"
)

// seedTransfer puts a transfer bill in WAIT_USER_CONFIRM straight into the
// sandbox state.
func seedTransfer(s *Server, cred Credentials) *transferBill {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.tb.init()
	b := &transferBill{partner: cred.PartnerMode, mchid: cred.MchID, owner: cred.MchID, appid: cred.AppID, openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
		outBillNo: uniqueNo("TB"), transferBillNo: "1330" + s.st.newTransactionID(now)[4:], amount: 100, remark: "seeded",
		state: "WAIT_USER_CONFIRM", created: now, updated: now, notifier: s.merchants[cred.MchID], userName: "张三"}
	if cred.PartnerMode {
		b.subMchID, b.owner = cred.SubMchID, cred.SubMchID
	}
	s.st.tb.bills[ownerKey(b.owner, b.outBillNo)] = b
	s.st.tb.byNo[b.transferBillNo] = b
	return b
}

func init() {
	byOut := func(s *Server, rq *opRequest) { rq.pathParams["out_bill_no"] = seedTransfer(s, rq.cred).outBillNo }
	for _, id := range []string{"QueryTransferBillByOutBillNo", "PartnerQueryTransferBillByOutBillNo", "CancelTransferBill", "PartnerCancelTransferBill"} {
		fixups[id] = byOut
	}
	fixups["QueryTransferBillByTransferBillNo"] = func(s *Server, rq *opRequest) {
		rq.pathParams["transfer_bill_no"] = seedTransfer(s, rq.cred).transferBillNo
	}
}

// TestTransferFlow: a transfer bill waits for the payee, who confirms it;
// it succeeds with MCHTRANSFER.BILL.FINISHED; a failed and a cancelled one
// end likewise; user_name comes back encrypted to the merchant's key; in
// both modes.
func TestTransferFlow(t *testing.T) {
	rv := newReceiver(t)
	s := newServer(t, WithTimeScale(0.001), WithRefundDelay(time.Second))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	for _, cred := range []Credentials{s.Merchant(), s.Partner()} {
		sg := signer{cred: cred}
		base, q := "/v3/fund-app/mch-transfer/transfer-bills", ""
		if cred.PartnerMode {
			base, q = "/v3/fund-app/mch-transfer/partner/transfer-bills", "?sub_mchid="+cred.SubMchID
		}
		platform := s.ring.current(s.now())
		create := func(outNo string) result {
			t.Helper()
			name, err := auth.EncryptOAEP(&platform.key.PublicKey, "张三")
			if err != nil {
				t.Fatal(err)
			}
			body := map[string]any{"appid": cred.AppID, "out_bill_no": outNo, "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "user_name": name,
				"transfer_amount": 500, "transfer_remark": "award", "notify_url": rv.URL + "/transfer", "transfer_scene_id": "1000",
				"transfer_scene_report_infos": []any{map[string]any{"info_type": "活动名称", "info_content": "新会员有礼"}}}
			if cred.PartnerMode {
				body["sub_mchid"] = cred.SubMchID
			}
			r := send(t, s.Handler(), sg, "POST", base, body, withSerial(platform.serial))
			if r.status != 200 {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			return r
		}
		query := func(outNo string) map[string]any {
			t.Helper()
			r := send(t, s.Handler(), sg, "GET", base+"/out-bill-no/"+outNo+q, nil)
			if r.status != 200 {
				t.Fatalf("query: %d %s", r.status, r.body)
			}
			return r.json(t)
		}
		ok := uniqueNo("TBOK")
		if r := create(ok); r.json(t)["state"] != "WAIT_USER_CONFIRM" || r.json(t)["package_info"] == nil {
			t.Fatalf("created: %s", r.body)
		}
		if err := s.ConfirmTransfer("", ok, ""); err != nil {
			t.Fatal(err)
		}
		d, err := s.WaitDelivery(ctx, func(d Delivery) bool {
			return d.EventType == "MCHTRANSFER.BILL.FINISHED" && d.Status == DeliveryDelivered && containsJSON(d.Resource, ok)
		})
		if err != nil {
			t.Fatal(err)
		}
		var res map[string]any
		_ = json.Unmarshal(d.Resource, &res)
		if res["state"] != "SUCCESS" || res["mchid"] != cred.MchID {
			t.Fatalf("notification %s", d.Resource)
		}
		got := query(ok)
		if got["state"] != "SUCCESS" {
			t.Fatalf("after confirmation: %v", got)
		}
		if name, err := auth.DecryptOAEP(cred.PrivateKey, got["user_name"].(string)); err != nil || name != "张三" {
			t.Fatalf("user_name does not decrypt with the merchant key: %q %v", name, err)
		}
		bad := uniqueNo("TBFAIL")
		create(bad)
		if err := s.ConfirmTransfer("", bad, "PAYEE_ACCOUNT_ABNORMAL"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.WaitDelivery(ctx, func(d Delivery) bool { return containsJSON(d.Resource, bad) && containsJSON(d.Resource, "FAIL") }); err != nil {
			t.Fatal(err)
		}
		cx := uniqueNo("TBCX")
		create(cx)
		var cancelBody any
		if cred.PartnerMode {
			cancelBody = map[string]any{"sub_mchid": cred.SubMchID}
		}
		if r := send(t, s.Handler(), sg, "POST", base+"/out-bill-no/"+cx+"/cancel", cancelBody); r.status != 200 || r.json(t)["state"] != "CANCELING" {
			t.Fatalf("cancel: %d %s", r.status, r.body)
		}
		if _, err := s.WaitDelivery(ctx, func(d Delivery) bool { return containsJSON(d.Resource, cx) && containsJSON(d.Resource, "CANCELLED") }); err != nil {
			t.Fatal(err)
		}
		if err := s.ConfirmTransfer("", cx, ""); err == nil {
			t.Fatal("a cancelled bill was confirmed")
		}
	}
}

func containsJSON(raw json.RawMessage, s string) bool { return strings.Contains(string(raw), s) }

func withSerial(serial string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Wechatpay-Serial", serial) }
}
