package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

const axePath = "npm/node_modules/axe-core/axe.min.js"

// loadAxe returns axe-core's source, or skips (fails under CI=true).
func loadAxe(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(axePath)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("axe-core missing (%v): run npm ci in tests/npm", err)
		}
		t.Skipf("axe-core not installed (%v); run npm ci in tests/npm", err)
	}
	return string(b)
}

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		HTML   string   `json:"html"`
		Target []string `json:"target"`
	} `json:"nodes"`
}

// axeCheck runs axe-core (WCAG 2.1 A/AA and best practices) on the current
// page and fails the test on serious or critical violations. Only
// violations are collected (resultTypes), which makes a run several times
// faster on long tables.
func (b *browser) axeCheck(axe, page string) {
	b.t.Helper()
	b.do("inject axe on "+page, chromedp.Evaluate[chromedp.Void](axe))
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]byte](
		`axe.run(document,{runOnly:{type:'tag',values:['wcag2a','wcag2aa','wcag21a','wcag21aa','best-practice']},resultTypes:['violations']}).then(r=>r.violations)`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("axe on %s: %v", page, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal(raw, &vs); err != nil {
		b.t.Fatalf("axe result on %s: %v", page, err)
	}
	var bad []string
	for _, v := range vs {
		if v.Impact != "serious" && v.Impact != "critical" {
			continue
		}
		var where []string
		for i, n := range v.Nodes {
			if i == 3 {
				where = append(where, fmt.Sprintf("… %d more", len(v.Nodes)-3))
				break
			}
			where = append(where, n.HTML)
		}
		bad = append(bad, fmt.Sprintf("%s (%s): %s — %s", v.ID, v.Impact, v.Help, strings.Join(where, " | ")))
	}
	if len(bad) > 0 {
		b.shot("axe-" + page)
		b.t.Errorf("accessibility violations on %s:\n  %s", page, strings.Join(bad, "\n  "))
	}
}
