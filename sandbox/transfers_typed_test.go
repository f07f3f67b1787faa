package sandbox

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/gen/transfers"
)

// TestTransferTyped runs a merchant transfer end to end through the typed
// client in both modes: create (user_name encrypted by the client), the
// payee confirms, MCHTRANSFER.BILL.FINISHED through the client's callback
// handler, the query's user_name decrypts with the merchant key; a cancel.
func TestTransferTyped(t *testing.T) {
	s := newServer(t, WithTimeScale(0.001), WithRefundDelay(time.Second))
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	for _, cred := range []Credentials{s.Merchant(), s.Partner()} {
		_, client, events, rv := flowClient(t, cred, ts.URL)
		in := func(no string) *transfers.CreateBillInput {
			return &transfers.CreateBillInput{
				AppID: cred.AppID, OutBillNo: no, OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", UserName: "张三",
				TransferAmount: 800, TransferRemark: "award", NotifyURL: rv.URL + "/transfer",
				TransferSceneID:          transfers.SceneIDScene1000,
				TransferSceneReportInfos: []transfers.SceneReportInfo{{InfoType: "活动名称", InfoContent: "新会员有礼"}},
				SubMchID:                 cred.SubMchID,
			}
		}
		no := uniqueNo("TT")
		created, err := client.Transfers.CreateBill(ctx, in(no))
		if err != nil {
			t.Fatalf("%s: %v", cred.MchID, err)
		}
		if created.PackageInfo == "" {
			t.Fatalf("no package_info: %+v", created)
		}
		if err := s.ConfirmTransfer("", no, ""); err != nil {
			t.Fatal(err)
		}
		var note *transfers.BillNotification
		for note == nil {
			select {
			case ev := <-events:
				if ev.EventType == transfers.EventMchtransferBillFinished {
					note, _ = ev.Resource.(*transfers.BillNotification)
				}
			case <-ctx.Done():
				t.Fatal("no MCHTRANSFER.BILL.FINISHED notification")
			}
		}
		if note.OutBillNo != no || note.State != transfers.BillStateSuccess || note.TransferAmount != 800 {
			t.Fatalf("notification %+v", note)
		}
		bill, err := client.Transfers.QueryBillByOutBillNo(ctx, no, &transfers.QueryBillByOutBillNoInput{SubMchID: cred.SubMchID})
		if err != nil || bill.State != transfers.BillStateSuccess {
			t.Fatalf("query: %v %+v", err, bill)
		}
		if name, err := auth.DecryptOAEP(cred.PrivateKey, bill.UserName); err != nil || name != "张三" {
			t.Fatalf("user_name %q: %v", name, err)
		}
		cx := uniqueNo("TC")
		if _, err := client.Transfers.CreateBill(ctx, in(cx)); err != nil {
			t.Fatal(err)
		}
		if c, err := client.Transfers.CancelBill(ctx, cx, &transfers.CancelBillInput{SubMchID: cred.SubMchID}); err != nil || c.State != "CANCELING" {
			t.Fatalf("cancel: %v %+v", err, c)
		}
	}
}
