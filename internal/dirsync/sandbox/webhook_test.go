package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"
)

// receiver records webhook deliveries; fail(n) makes it answer 500 to the
// next n requests.
type receiver struct {
	mu       sync.Mutex
	bodies   [][]byte
	sigs     []string
	failNext int
	got      chan struct{}
}

func newReceiver(t *testing.T) (*receiver, *httptest.Server) {
	rc := &receiver{got: make(chan struct{}, 1000)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.bodies = append(rc.bodies, b)
		rc.sigs = append(rc.sigs, r.Header.Get("WorkOS-Signature"))
		fail := rc.failNext > 0
		if fail {
			rc.failNext--
		}
		rc.mu.Unlock()
		if fail {
			w.WriteHeader(500)
		}
		rc.got <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return rc, srv
}

// wait blocks until n deliveries arrived (or fails after 10 s).
func (rc *receiver) wait(t *testing.T, n int) {
	t.Helper()
	for {
		rc.mu.Lock()
		have := len(rc.bodies)
		rc.mu.Unlock()
		if have >= n {
			return
		}
		select {
		case <-rc.got:
		case <-time.After(30 * time.Second):
			t.Fatalf("only %d of %d webhook deliveries arrived", have, n)
		}
	}
}

var sigRE = regexp.MustCompile(`^t=(\d+), v1=([0-9a-f]{64})$`)

func verify(t *testing.T, secret, header string, body []byte) int64 {
	t.Helper()
	m := sigRE.FindStringSubmatch(header)
	if m == nil {
		t.Fatalf("signature header %q", header)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(m[1] + "." + string(body)))
	want := hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(m[2])) {
		t.Fatalf("signature does not verify")
	}
	ts, _ := strconv.ParseInt(m[1], 10, 64)
	return ts
}

func TestWebhooks_SignedInOrderRealShape(t *testing.T) {
	rc, rsrv := newReceiver(t)
	h := newHarness(t, Options{WebhookURL: rsrv.URL, WebhookSecret: "whsec_test"})
	dir := h.sb.State().Directories[0].ID
	g := groupsOfDir(h.sb.State(), dir)[0]
	u := decode[userJSON](t, h.control("POST", "/_sandbox/directories/"+dir+"/users",
		`{"first_name":"Zoë","last_name":"<Tag> \u2028 & x","job_title":"<script>alert(1)</script>","group_ids":["`+g+`"]}`, 201))
	h.control("PATCH", "/_sandbox/users/"+u.ID, `{"department":"R&D"}`, 200)
	rc.wait(t, 3)
	wantEvents := []string{"dsync.user.created", "dsync.group.user_added", "dsync.user.updated"}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var prevID string
	for i, body := range rc.bodies {
		ts := verify(t, "whsec_test", rc.sigs[i], body)
		if ts != h.clock.Now().UnixMilli() {
			t.Errorf("signature timestamp %d is not the clock in ms", ts)
		}
		var ev map[string]json.RawMessage
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Fatal(err)
		}
		if _, ok := ev["object"]; ok {
			t.Errorf("webhook body has an object key")
		}
		var name, id string
		_ = json.Unmarshal(ev["event"], &name)
		_ = json.Unmarshal(ev["id"], &id)
		if name != wantEvents[i] || id <= prevID {
			t.Errorf("delivery %d: %s %s", i, name, id)
		}
		prevID = id
		if body[len(body)-1] != '}' {
			t.Errorf("body does not end with }: %q", body[len(body)-8:])
		}
	}
	first := string(rc.bodies[0])
	for _, s := range []string{`"job_title":"<script>alert(1)</script>"`, "\u2028", `"last_name":"<Tag> `, `"email":"zoe.tagx@`} {
		if !regexp.MustCompile(regexp.QuoteMeta(s)).MatchString(first) {
			t.Errorf("body lacks %q verbatim: %s", s, first)
		}
	}
	// The same ids as the Events API.
	evs := h.eventsSince("")
	if evs[len(evs)-1].ID != prevID {
		t.Errorf("last webhook %s is not the last event %s", prevID, evs[len(evs)-1].ID)
	}
}

func TestWebhooks_RetryWithBackoff(t *testing.T) {
	rc, rsrv := newReceiver(t)
	h := newHarness(t, Options{})
	h.sb.hooks.base = 5 * time.Millisecond
	rc.failNext = 2
	h.control("PUT", "/_sandbox/webhooks", `{"url":"`+rsrv.URL+`","secret":"s3"}`, 200)
	dir := h.sb.State().Directories[0].ID
	h.control("POST", "/_sandbox/directories/"+dir+"/users", `{"first_name":"Retry"}`, 201)
	h.control("POST", "/_sandbox/directories/"+dir+"/users", `{"first_name":"Second"}`, 201)
	rc.wait(t, 4) // two failures, then both events
	rc.mu.Lock()
	var ids []string
	for i, b := range rc.bodies {
		verify(t, "s3", rc.sigs[i], b)
		var ev struct{ ID string }
		_ = json.Unmarshal(b, &ev)
		ids = append(ids, ev.ID)
	}
	rc.mu.Unlock()
	if ids[0] != ids[1] || ids[1] != ids[2] || ids[3] <= ids[2] {
		t.Errorf("delivery ids = %v: want the first event three times, then the next", ids)
	}
	// The worker counts a delivery just after the receiver answers.
	waitFor(t, func() bool { return h.sb.hooks.status().Delivered >= 2 })
	if st := h.sb.hooks.status(); st.Delivered != 2 || st.Pending != 0 {
		t.Errorf("status = %+v", st)
	}
	h.control("PUT", "/_sandbox/webhooks", `{"url":"ftp://x"}`, 422)
}

func TestJSONWriter_MatchesJSONStringify(t *testing.T) {
	cases := map[string]string{
		"plain":                `"plain"`,
		`quote " and \`:        `"quote \" and \\"`,
		"<script>&amp;":        `"<script>&amp;"`,
		"tab\tnl\ncr\r":        `"tab\tnl\ncr\r"`,
		"\b\f\x01\x1f":         `"\b\f\u0001\u001f"`,
		"line\u2028para\u2029": "\"line\u2028para\u2029\"",
		"日本語 🚀":                `"日本語 🚀"`,
		"bad\xffbyte":          "\"bad\uFFFDbyte\"",
		"\x7f":                 "\"\x7f\"",
	}
	for in, want := range cases {
		if got := string(appendJSString(nil, in)); got != want {
			t.Errorf("%q: got %s, want %s", in, got, want)
		}
	}
	var j jw
	j.obj()
	j.kstr("a", "1")
	j.karr("b")
	j.integer(1)
	j.null()
	j.obj()
	j.endObj()
	j.endArr()
	j.kobj("c")
	j.endObj()
	j.kbool("d", true)
	j.endObj()
	if got := string(j.b); got != `{"a":"1","b":[1,null,{}],"c":{},"d":true}` {
		t.Errorf("writer output %s", got)
	}
}
