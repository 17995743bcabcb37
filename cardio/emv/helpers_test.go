package emv_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
)

func mustHex(t testing.TB, s string) cardio.Hex {
	t.Helper()
	b, err := cardio.ParseHex(s)
	require.NoError(t, err)
	return b
}

// fmtAll renders v with several verbs.
func fmtAll(v any) string {
	return fmt.Sprintf("%v %+v %#v %s %q", v, v, v, v, v)
}

// setField replaces the value of tag wherever it occurs in the image's records.
func setField(t testing.TB, img *cardsim.Image, tag string, value []byte) {
	t.Helper()
	found := false
	for ai := range img.Applications {
		for ri := range img.Applications[ai].Records {
			fs := img.Applications[ai].Records[ri].Fields
			for fi := range fs {
				if fs[fi].Tag == tag {
					fs[fi].Value = value
					found = true
				}
			}
		}
	}
	require.True(t, found, "tag %s not in image", tag)
}

// getField returns a copy of the value of tag in the image's records.
func getField(t testing.TB, img cardsim.Image, tag string) []byte {
	t.Helper()
	for _, a := range img.Applications {
		for _, r := range a.Records {
			for _, f := range r.Fields {
				if f.Tag == tag {
					return append([]byte(nil), f.Value...)
				}
			}
		}
	}
	t.Fatalf("tag %s not in image", tag)
	return nil
}
