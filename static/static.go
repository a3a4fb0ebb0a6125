// Package static embeds Roster's CSS and JavaScript and serves them under
// content-hashed names with immutable caching, so a deploy never serves a
// stale file and a browser never asks twice.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed css js
var files embed.FS

// Prefix is the URL path under which assets are served.
const Prefix = "/static/"

var (
	hashed  = map[string]string{} // "css/app.css" → "css/app.1a2b3c4d.css"
	reverse = map[string]string{} // the other way
)

func init() {
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ext := path.Ext(p)
		name := strings.TrimSuffix(p, ext) + "." + hex.EncodeToString(sum[:4]) + ext
		hashed[p] = name
		reverse[name] = p
		return nil
	})
}

// Path returns the URL of an asset, e.g. Path("css/app.css") →
// "/static/css/app.1a2b3c4d.css". An unknown name returns the plain path,
// which the handler answers with 404.
func Path(name string) string {
	if h, ok := hashed[name]; ok {
		return Prefix + h
	}
	return Prefix + name
}

// Handler serves assets by their hashed names only.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, Prefix)
		orig, ok := reverse[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		b, err := files.ReadFile(orig)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if ct := mime.TypeByExtension(path.Ext(orig)); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(b)
	})
}
