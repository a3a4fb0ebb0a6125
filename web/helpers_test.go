package web

import (
	"net/http"
	"net/http/cookiejar"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// browserClient keeps cookies like a browser and returns redirects
// instead of following them, so tests see each 303.
func browserClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// getDoc fetches url with c and parses the page.
func getDoc(t testing.TB, c *http.Client, url string) (*http.Response, *goquery.Document) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, doc
}
