package sandbox

import (
	"encoding/binary"
	"math/rand/v2"

	"github.com/oklog/ulid/v2"
)

// idGen hands out prefixed ULIDs that strictly increase across the whole
// sandbox (objects and events alike), so that sorting by id is sorting by
// creation and `after` cursors never skip an event. Entropy comes from a
// seeded PCG so that the same seed yields the same ids.
type idGen struct {
	rnd  *rand.Rand
	last ulid.ULID
}

func newIDGen(seed int64) *idGen {
	return &idGen{rnd: rand.New(rand.NewPCG(uint64(seed), 0x5eed_d1c5_0000_0001))}
}

// next returns prefix + a ULID whose time part is ms, or the previous id's
// time when ms would go backwards; within one millisecond the 80-bit entropy
// is incremented, as ULID's monotonic mode prescribes.
func (g *idGen) next(prefix string, ms int64) string {
	var id ulid.ULID
	lastMs := int64(g.last.Time())
	if ms <= lastMs && g.last != (ulid.ULID{}) {
		id = g.last
		// Increment the 80-bit big-endian entropy (bytes 6..15).
		lo := binary.BigEndian.Uint64(id[8:]) + 1
		binary.BigEndian.PutUint64(id[8:], lo)
		if lo == 0 {
			hi := binary.BigEndian.Uint16(id[6:8]) + 1
			binary.BigEndian.PutUint16(id[6:8], hi)
			if hi == 0 {
				// Entropy exhausted within one millisecond: move to the next.
				_ = id.SetTime(uint64(lastMs + 1))
			}
		}
	} else {
		if ms < 0 {
			ms = 0
		}
		_ = id.SetTime(uint64(ms))
		var e [10]byte
		binary.BigEndian.PutUint16(e[0:2], uint16(g.rnd.Uint32()))
		// Keep the top bit clear so increments rarely overflow.
		binary.BigEndian.PutUint64(e[2:], g.rnd.Uint64()>>1)
		_ = id.SetEntropy(e[:])
	}
	g.last = id
	return prefix + id.String()
}

// observe makes sure later ids sort after an id loaded from a state file.
func (g *idGen) observe(prefixed string, prefix string) {
	if len(prefixed) <= len(prefix) {
		return
	}
	id, err := ulid.ParseStrict(prefixed[len(prefix):])
	if err != nil {
		return
	}
	if id.Compare(g.last) > 0 {
		g.last = id
	}
}
