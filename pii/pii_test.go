package pii_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/pii"
)

var key = bytes.Repeat([]byte{0x42}, 32)

func TestParseDataKey(t *testing.T) {
	cases := []struct {
		name string
		in   string
		ok   bool
	}{
		{"hex", hex.EncodeToString(key), true},
		{"hex upper with newline", strings.ToUpper(hex.EncodeToString(key)) + "\n", true},
		{"base64", base64.StdEncoding.EncodeToString(key), true},
		{"raw url base64", base64.RawURLEncoding.EncodeToString(key), true},
		{"short", hex.EncodeToString(key[:16]), false},
		{"garbage", "not a key", false},
		{"empty", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, err := pii.ParseDataKey(tc.in)
			if !tc.ok {
				require.ErrorIs(t, err, pii.ErrKey)
				return
			}
			require.NoError(t, err)
			require.Equal(t, key, k)
		})
	}
}

func TestSealOpen(t *testing.T) {
	k, err := pii.New(key)
	require.NoError(t, err)
	const id = "11010519491231002X"
	a, err := k.Seal("volunteer.id_number", id)
	require.NoError(t, err)
	b, err := k.Seal("volunteer.id_number", id)
	require.NoError(t, err)
	require.NotEqual(t, a, b, "random nonce")
	require.Equal(t, byte(1), a[0], "key id byte")
	require.False(t, bytes.Contains(a, []byte(id)))
	got, err := k.Open("volunteer.id_number", a)
	require.NoError(t, err)
	require.Equal(t, id, got)

	_, err = k.Open("volunteer.phone", a)
	require.ErrorIs(t, err, pii.ErrDecrypt, "purpose is bound")
	tampered := append([]byte(nil), a...)
	tampered[len(tampered)-1] ^= 1
	_, err = k.Open("volunteer.id_number", tampered)
	require.ErrorIs(t, err, pii.ErrDecrypt)
	require.NotContains(t, err.Error(), id)
	_, err = k.Open("volunteer.id_number", a[:5])
	require.ErrorIs(t, err, pii.ErrDecrypt)

	empty, err := k.Seal("x", "")
	require.NoError(t, err)
	require.Nil(t, empty)
	s, err := k.Open("x", nil)
	require.NoError(t, err)
	require.Empty(t, s)

	other, err := pii.New(bytes.Repeat([]byte{1}, 32))
	require.NoError(t, err)
	_, err = other.Open("volunteer.id_number", a)
	require.ErrorIs(t, err, pii.ErrDecrypt)
}

func TestKeyRotation(t *testing.T) {
	oldKeys, err := pii.New(key)
	require.NoError(t, err)
	sealedOld, err := oldKeys.Seal("p", "13812345678")
	require.NoError(t, err)
	newKey := bytes.Repeat([]byte{9}, 32)
	k, err := pii.New(newKey, pii.WithKeyID(2), pii.WithOldKey(1, key))
	require.NoError(t, err)
	got, err := k.Open("p", sealedOld)
	require.NoError(t, err)
	require.Equal(t, "13812345678", got)
	sealedNew, err := k.Seal("p", "13812345678")
	require.NoError(t, err)
	require.Equal(t, byte(2), sealedNew[0])
	_, err = pii.New(newKey, pii.WithOldKey(1, key))
	require.ErrorIs(t, err, pii.ErrKey, "id 1 taken by the current key")
	_, err = pii.New(key[:31])
	require.ErrorIs(t, err, pii.ErrKey)
}

func TestIndex(t *testing.T) {
	k, err := pii.New(key)
	require.NoError(t, err)
	a := k.Index("id_number", "11010519491231002X")
	require.Len(t, a, 32)
	require.Equal(t, a, k.Index("id_number", "11010519491231002X"))
	require.NotEqual(t, a, k.Index("id_number", "11010519491231002Y"))
	require.NotEqual(t, a, k.Index("phone", "11010519491231002X"), "purposes separate")
	other, err := pii.New(bytes.Repeat([]byte{1}, 32))
	require.NoError(t, err)
	require.NotEqual(t, a, other.Index("id_number", "11010519491231002X"))
}

func TestMasks(t *testing.T) {
	cases := []struct{ name, got, want string }{
		{"id", pii.MaskIDNumber("11010519491231002X"), "1101**********002X"},
		{"short id", pii.MaskIDNumber("1234567"), "*******"},
		{"phone", pii.MaskPhone("13812345678"), "138****5678"},
		{"short phone", pii.MaskPhone("12345"), "*****"},
		{"name 1", pii.MaskName("张"), "*"},
		{"name 2", pii.MaskName("张三"), "张*"},
		{"name 3", pii.MaskName("张三丰"), "张*丰"},
		{"name 4", pii.MaskName("欧阳小明"), "欧**明"},
		{"name empty", pii.MaskName(""), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, tc.got) })
	}
}

func TestSecretNeverPrintsPlaintext(t *testing.T) {
	id := pii.IDNumber("11010519491231002X")
	phone := pii.Phone("13812345678")
	type holder struct {
		ID    pii.Secret
		Phone pii.Secret `json:"phone"`
	}
	h := holder{ID: id, Phone: phone}
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.Info("x", "id", id, "phone", phone, "holder", h)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "id", id, "any", any(phone))
	js, err := json.Marshal(h)
	require.NoError(t, err)
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", id), "%s": fmt.Sprintf("%s", id), "%q": fmt.Sprintf("%q", id),
		"%+v": fmt.Sprintf("%+v", h), "%#v": fmt.Sprintf("%#v", h), "%x": fmt.Sprintf("%x", id),
		"%d": fmt.Sprintf("%d", phone), "String": id.String(), "json": string(js), "slog": buf.String(),
		"error": fmt.Errorf("wrap: %v", phone).Error(),
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			require.NotContains(t, out, "11010519491231002X")
			require.NotContains(t, out, "19491231")
			require.NotContains(t, out, "13812345678")
		})
	}
	require.Contains(t, outputs["json"], "1101**********002X")
	require.Contains(t, outputs["slog"], "138****5678")
	require.Equal(t, "11010519491231002X", id.Reveal())
	require.True(t, pii.Secret{}.IsZero())
	require.True(t, errors.Is(pii.ErrKey, pii.ErrKey))
}
