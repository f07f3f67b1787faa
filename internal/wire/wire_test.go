package wire

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestURI(t *testing.T) {
	u := NewURI("/v3/a/", 8)
	u.Seg("x y/z")
	u.Lit("/b")
	u.Query("empty", "")
	u.Query("q", "a&b=c")
	u.QueryInt("offset", 0)
	u.QueryBool("flag", false)
	if got, want := u.String(), "/v3/a/x%20y%2Fz/b?q=a%26b%3Dc&offset=0&flag=false"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	u = NewURI("/v3/b", 0)
	if got := u.String(); got != "/v3/b" {
		t.Errorf("got %s", got)
	}
}

func TestPrefix(t *testing.T) {
	got := Prefix([]string{"a"}, Index("goods", 2), []string{"id", "price"})
	if want := []string{"a", "goods[2].id", "goods[2].price"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if Prefix(nil, "x.", nil) != nil {
		t.Error("nothing missing must stay nil")
	}
}

// TestURIMatchesWire checks that what net/http sends is exactly what was
// built, and so signed.
func TestURIMatchesWire(t *testing.T) {
	u := NewURI("/v3/a/", 8)
	u.Seg("A|B*C 1/ä")
	u.Lit("/close")
	u.Query("mchid", "19")
	u.Query("q", "x y+z&")
	got := u.String()
	want := "/v3/a/A%7CB%2AC%201%2F%C3%A4/close?mchid=19&q=x+y%2Bz%26"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	req, _ := http.NewRequest("GET", "https://api.mch.weixin.qq.com"+got, nil)
	if req.URL.RequestURI() != got {
		t.Errorf("net/http would send %s", req.URL.RequestURI())
	}
}

func FuzzURIMatchesWire(f *testing.F) {
	f.Add("A|B*C 1", "x y")
	f.Fuzz(func(t *testing.T, seg, q string) {
		if seg == "" {
			return
		}
		u := NewURI("/v3/", 0)
		u.Seg(seg)
		u.Query("q", q)
		got := u.String()
		req, err := http.NewRequest("GET", "https://h"+got, nil)
		if err != nil {
			t.Fatal(err)
		}
		if req.URL.RequestURI() != got {
			t.Fatalf("signed %q, sent %q", got, req.URL.RequestURI())
		}
		if p, _ := url.PathUnescape(strings.TrimPrefix(strings.SplitN(got, "?", 2)[0], "/v3/")); p != seg {
			t.Fatalf("segment %q came back as %q", seg, p)
		}
	})
}
