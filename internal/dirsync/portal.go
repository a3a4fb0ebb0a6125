package dirsync

import (
	"context"
	"errors"
	"net/http"
)

// Admin Portal intents (the spec's GenerateLinkDto.intent enum).
const (
	IntentSSO                = "sso"
	IntentDsync              = "dsync"
	IntentAuditLogs          = "audit_logs"
	IntentLogStreams         = "log_streams"
	IntentDomainVerification = "domain_verification"
	IntentCertificateRenewal = "certificate_renewal"
	IntentBringYourOwnKey    = "bring_your_own_key"
)

// GenerateLink is the body of Client.GenerateLink. Organization is required.
type GenerateLink struct {
	Organization    string   `json:"organization"`
	Intent          string   `json:"intent,omitempty"`
	ReturnURL       string   `json:"return_url,omitempty"`
	SuccessURL      string   `json:"success_url,omitempty"`
	ITContactEmails []string `json:"it_contact_emails,omitempty"` // up to 20
}

// GenerateLink creates a short-lived Admin Portal link, e.g. for an IT admin
// to connect their directory (Intent IntentDsync).
func (c *Client) GenerateLink(ctx context.Context, in GenerateLink) (string, error) {
	var out struct {
		Link string `json:"link"`
	}
	r := request{method: http.MethodPost, path: "/portal/generate_link", body: in}
	if err := c.do(ctx, r, &out); err != nil {
		return "", err
	}
	if out.Link == "" {
		return "", &APIError{Status: http.StatusCreated, Method: r.method, Path: r.path, Attempts: 1,
			Err: errors.New(`response has no "link"`)}
	}
	return out.Link, nil
}
