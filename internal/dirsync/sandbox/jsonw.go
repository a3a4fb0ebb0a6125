package sandbox

import (
	"strconv"
	"unicode/utf8"
)

// jw is a tiny append-only JSON writer. The sandbox renders every wire
// object with it instead of encoding/json so that the bytes are exactly what
// JavaScript's JSON.stringify(JSON.parse(body)) produces: compact, no HTML
// escaping, U+2028/U+2029 left literal, lowercase \u00xx escapes. The Node
// SDK verifies webhook signatures over that re-serialisation, so any
// difference would break verification.
type jw struct {
	b []byte
	// first records, per open container, whether no member was written yet.
	first []bool
	// afterKey is set between a key and its value.
	afterKey bool
}

// sep writes the comma needed before the next value or key, if any.
func (w *jw) sep() {
	if w.afterKey {
		w.afterKey = false
		return
	}
	n := len(w.first)
	if n == 0 {
		return
	}
	if w.first[n-1] {
		w.first[n-1] = false
		return
	}
	w.b = append(w.b, ',')
}

func (w *jw) open(c byte) {
	w.sep()
	w.b = append(w.b, c)
	w.first = append(w.first, true)
}

func (w *jw) close(c byte) {
	w.b = append(w.b, c)
	w.first = w.first[:len(w.first)-1]
}

func (w *jw) obj()    { w.open('{') }
func (w *jw) endObj() { w.close('}') }
func (w *jw) arr()    { w.open('[') }
func (w *jw) endArr() { w.close(']') }

// key writes an object key; the next call writes its value.
func (w *jw) key(k string) {
	w.sep()
	w.b = appendJSString(w.b, k)
	w.b = append(w.b, ':')
	w.afterKey = true
}

func (w *jw) str(s string) {
	w.sep()
	w.b = appendJSString(w.b, s)
}

// strOrNull writes s, or null when ok is false.
func (w *jw) strOrNull(s string, ok bool) {
	if ok {
		w.str(s)
	} else {
		w.null()
	}
}

func (w *jw) null() {
	w.sep()
	w.b = append(w.b, "null"...)
}

func (w *jw) boolean(v bool) {
	w.sep()
	w.b = strconv.AppendBool(w.b, v)
}

func (w *jw) integer(v int64) {
	w.sep()
	w.b = strconv.AppendInt(w.b, v, 10)
}

// raw writes pre-rendered JSON as a value.
func (w *jw) raw(p []byte) {
	w.sep()
	w.b = append(w.b, p...)
}

// Helpers that write "key":value pairs.
func (w *jw) kstr(k, v string)       { w.key(k); w.str(v) }
func (w *jw) knull(k string)         { w.key(k); w.null() }
func (w *jw) kint(k string, v int64) { w.key(k); w.integer(v) }
func (w *jw) kbool(k string, v bool) { w.key(k); w.boolean(v) }
func (w *jw) kobj(k string)          { w.key(k); w.obj() }
func (w *jw) karr(k string)          { w.key(k); w.arr() }
func (w *jw) kstrOrNull(k, v string, ok bool) {
	w.key(k)
	w.strOrNull(v, ok)
}

const hexDigits = "0123456789abcdef"

// appendJSString quotes s the way JSON.stringify does.
func appendJSString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"':
				b = append(b, '\\', '"')
			case '\\':
				b = append(b, '\\', '\\')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			// Invalid UTF-8 cannot survive a JSON round trip; write U+FFFD
			// so that parse + stringify gives back the same bytes.
			b = append(b, s[start:i]...)
			b = append(b, "\uFFFD"...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
