package emv_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/emv"
)

const cardsDir = "../../testdata/cards/"

var testNow = time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)

func caKeys(t testing.TB) emv.CAKeys {
	t.Helper()
	ks, err := emv.LoadCAKeys("../../testdata/keys/ca-public.json")
	require.NoError(t, err)
	return ks
}

func opts(t testing.TB) emv.Options {
	return emv.Options{CAKeys: caKeys(t), Now: func() time.Time { return testNow }}
}

// connect loads an image into a sim reader and connects to it.
func connect(t testing.TB, img cardsim.Image) (cardio.Card, *cardsim.Card) {
	t.Helper()
	sc, err := cardsim.New(img)
	require.NoError(t, err)
	r := cardsim.NewReaders(sc)
	c, err := r.Connect(context.Background(), cardsim.ReaderName, cardio.ShareExclusive)
	require.NoError(t, err)
	return c, sc
}

func image(t testing.TB, name string) cardsim.Image {
	t.Helper()
	img, err := cardsim.LoadImage(cardsDir + name)
	require.NoError(t, err)
	return img
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// factsView is the comparable part of CardFacts.
type factsView struct {
	Selection, AID, Label, Preferred, PAN, PANMasked, PSN string
	Expiry, Effective                                     string
	Name, NameLatin, NameExt, ID, IDMasked                string
	IDType                                                emv.IDType
	Track2Expiry, ServiceCode                             string
	Country, Priority, CodeTable                          int
	AIP                                                   string
	CVM                                                   int
	ODA                                                   emv.ODAMethod
	Verified                                              bool
}

func view(f *emv.CardFacts) factsView {
	v := factsView{
		Selection: f.Selection, AID: f.AID.String(), Label: f.Label, Preferred: f.PreferredName,
		PAN: f.PAN.Digits(), PANMasked: f.PAN.String(), PSN: f.PSN,
		Expiry: f.Expiry.Format("2006-01-02"), Effective: f.Effective.Format("2006-01-02"),
		Name: f.CardholderName, NameLatin: f.CardholderNameLatin, NameExt: f.CardholderNameExtended, ID: f.IDNumber.Clear(), IDMasked: f.IDNumber.String(),
		Track2Expiry: f.Track2.Expiry, ServiceCode: f.Track2.ServiceCode,
		Country: f.IssuerCountry, Priority: f.Priority, CodeTable: f.CodeTableIndex,
		AIP: f.AIP.String(), CVM: len(f.CVMList.Rules), ODA: f.ODA.Method, Verified: f.ODA.Verified,
	}
	if f.IDType != nil {
		v.IDType = *f.IDType
	}
	return v
}

func TestReadImages(t *testing.T) {
	// The default image reads the same with and without the check-in
	// shortcut.
	defaultCard := factsView{
		Selection: "PPSE", AID: "A000000333010101", Label: "PBOC DEBIT", Preferred: "VOLUNTEER DEBIT",
		PAN: "6217850000000012349", PANMasked: "621785*********2349", PSN: "01",
		Expiry: "2030-12-31", Effective: "2020-12-01", Name: "张晓明", NameLatin: "ZHANG XIAOMING",
		ID: "441402200001011232", IDMasked: "441402************", IDType: emv.IDTypeResidentCard,
		Track2Expiry: "3012", ServiceCode: "220", Country: 156, Priority: 1, CodeTable: 1,
		AIP: "7C00", CVM: 4, ODA: emv.ODADDA, Verified: true,
	}
	tests := []struct {
		name  string
		file  string
		fast  bool
		apdus int
		want  factsView
	}{
		{
			name: "default card full read", file: "default.json", apdus: 10,
			want: defaultCard,
		},
		{
			name: "default card check-in (fast)", file: "default.json", fast: true, apdus: 8,
			want: defaultCard,
		},
		{
			name: "PSE only, priority picks debit, GPO format 2", file: "pse-only.json", fast: true,
			apdus: 1 + 1 + 3 + 1 + 1 + 4 + 1, // PPSE, PSE, 2 records + 6A83, SELECT, GPO, 4 records, INTERNAL AUTH
			want: factsView{
				Selection: "PSE", AID: "A000000333010101", Label: "PBOC DEBIT", Preferred: "UNIONPAY DEBIT",
				PAN: "6259080000000056787", PANMasked: "625908*********6787", PSN: "00",
				Expiry: "2030-12-31", Effective: "2020-12-01", Name: "LI/SI", NameLatin: "LI/SI",
				ID: "440106198512314567", IDMasked: "440106************", IDType: emv.IDTypeResidentCard,
				Track2Expiry: "3012", ServiceCode: "220", Country: 156, Priority: 1, CodeTable: 1,
				AIP: "7C00", CVM: 4, ODA: emv.ODADDA, Verified: true,
			},
		},
		{
			name: "SDA only", file: "sda-only.json", fast: true, apdus: 7,
			want: factsView{
				Selection: "PPSE", AID: "A000000333010101", Label: "PBOC DEBIT", Preferred: "VOLUNTEER DEBIT",
				PAN: "6217850000000098769", PANMasked: "621785*********8769", PSN: "00",
				Expiry: "2030-12-31", Effective: "2020-12-01", Name: "王芳", NameLatin: "WANG FANG",
				ID: "44142119990909246X", IDMasked: "441421************", IDType: emv.IDTypeResidentCard,
				Track2Expiry: "3012", ServiceCode: "220", Country: 156, Priority: 1, CodeTable: 1,
				AIP: "5C00", CVM: 4, ODA: emv.ODASDA, Verified: true,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			card, _ := connect(t, image(t, tc.file))
			o := opts(t)
			o.Fast = tc.fast
			f, err := emv.Read(ctxT(t), card, o)
			require.NoError(t, err)
			got := view(f)
			want := tc.want
			require.Empty(t, cmp.Diff(want, got))
			require.Equal(t, tc.apdus, f.APDUs)
			if tc.fast {
				require.Nil(t, f.ATC)
				require.Nil(t, f.PINTryCounter)
			} else {
				require.NotNil(t, f.ATC)
				require.Equal(t, 0x11, *f.ATC) // image ATC 0x10, +1 for GPO
				require.Equal(t, 3, *f.PINTryCounter)
			}
		})
	}
}

func TestFactsMaskSensitiveData(t *testing.T) {
	card, _ := connect(t, image(t, "default.json"))
	f, err := emv.Read(ctxT(t), card, opts(t))
	require.NoError(t, err)
	pan, id := f.PAN.Digits(), f.IDNumber.Clear()
	b, err := json.Marshal(f)
	require.NoError(t, err)
	for _, out := range []string{string(b), f.PAN.String(), fmtAll(f.PAN), fmtAll(f.IDNumber), fmtAll(*f), f.Track2.String()} {
		require.NotContains(t, out, pan)
		require.NotContains(t, out, id)
	}
	require.Contains(t, string(b), `"pan":"621785*********2349"`)
}

func TestReadErrors(t *testing.T) {
	t.Run("non-financial card", func(t *testing.T) {
		card, _ := connect(t, image(t, "non-financial.json"))
		_, err := emv.Read(ctxT(t), card, opts(t))
		require.ErrorIs(t, err, emv.ErrNotFinancialCard)
	})
	t.Run("empty card", func(t *testing.T) {
		card, _ := connect(t, cardsim.Image{})
		_, err := emv.Read(ctxT(t), card, opts(t))
		require.ErrorIs(t, err, emv.ErrNotFinancialCard)
	})
	t.Run("track 2 PAN mismatch", func(t *testing.T) {
		img := image(t, "default.json")
		setField(t, &img, "57", mustHex(t, "6217850000000099999D30122200000000000F"))
		card, _ := connect(t, img)
		_, err := emv.Read(ctxT(t), card, opts(t))
		require.ErrorIs(t, err, emv.ErrTrack2Mismatch)
		var te *emv.Track2Error
		require.ErrorAs(t, err, &te)
		require.Equal(t, "PAN", te.Field)
		require.NotContains(t, err.Error(), "621785")
	})
	t.Run("track 2 expiry mismatch", func(t *testing.T) {
		img := image(t, "default.json")
		setField(t, &img, "57", mustHex(t, "6217850000000012349D29122200000000000F"))
		card, _ := connect(t, img)
		_, err := emv.Read(ctxT(t), card, opts(t))
		var te *emv.Track2Error
		require.ErrorAs(t, err, &te)
		require.Equal(t, "expiry", te.Field)
	})
	t.Run("GPO refused", func(t *testing.T) {
		card, sc := connect(t, image(t, "default.json"))
		sc.FailCommand([]byte{0x80, 0xA8}, 0x6985)
		_, err := emv.Read(ctxT(t), card, opts(t))
		require.ErrorIs(t, err, cardio.ErrConditionsNotSatisfied)
	})
	t.Run("PPSE broken falls back to PSE", func(t *testing.T) {
		card, sc := connect(t, image(t, "default.json"))
		sc.FailCommand(append([]byte{0x00, 0xA4, 0x04, 0x00, 0x0E}, emv.PPSEName...), 0x6A81)
		f, err := emv.Read(ctxT(t), card, opts(t))
		require.NoError(t, err)
		require.Equal(t, "PSE", f.Selection)
	})
	t.Run("no directories falls back to known AIDs", func(t *testing.T) {
		img := image(t, "default.json")
		img.PPSE, img.PSE = false, false
		card, _ := connect(t, img)
		f, err := emv.Read(ctxT(t), card, opts(t))
		require.NoError(t, err)
		require.Equal(t, "AID", f.Selection)
		require.Equal(t, "A000000333010101", f.AID.String())
	})
}

// TestCardRemovedMidRead removes the card after every possible number of
// APDUs and checks the read fails with ErrCardRemoved, promptly.
func TestCardRemovedMidRead(t *testing.T) {
	for _, fast := range []bool{true, false} {
		total := 10
		if fast {
			total = 8
		}
		for n := 0; n < total; n++ {
			t.Run(name(fast, n), func(t *testing.T) {
				card, sc := connect(t, image(t, "default.json"))
				sc.RemoveAfter(n)
				o := opts(t)
				o.Fast = fast
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_, err := emv.Read(ctx, card, o)
				require.ErrorIs(t, err, cardio.ErrCardRemoved)
				require.NoError(t, ctx.Err(), "read must not wait for the deadline")
				require.True(t, sc.Removed())
			})
		}
	}
}

func name(fast bool, n int) string {
	mode := "full"
	if fast {
		mode = "fast"
	}
	return mode + "/after-" + string(rune('0'+n))
}

func TestPIN(t *testing.T) {
	card, sc := connect(t, image(t, "default.json"))
	ctx := ctxT(t)
	o := opts(t)
	o.SkipODA = true
	_, err := emv.Read(ctx, card, o)
	require.NoError(t, err)

	steps := []struct {
		name  string
		pin   string
		err   error
		tries int
	}{
		{"right", "123456", nil, 3},
		{"wrong", "000000", cardio.ErrWrongPIN, 2},
		{"right resets", "123456", nil, 3},
		{"wrong 1", "111111", cardio.ErrWrongPIN, 2},
		{"wrong 2", "222222", cardio.ErrWrongPIN, 1},
		{"wrong 3 blocks", "333333", cardio.ErrWrongPIN, 0},
		{"blocked", "123456", cardio.ErrBlocked, 0},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			err := emv.VerifyPIN(ctx, card, s.pin)
			if s.err == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, s.err)
				require.NotContains(t, err.Error(), s.pin)
			}
			var pe *cardio.PINError
			if errors.As(err, &pe) {
				require.Equal(t, s.tries, pe.TriesLeft)
			}
			n, err := emv.PINTryCounter(ctx, card)
			require.NoError(t, err)
			require.Equal(t, s.tries, n)
			require.Equal(t, s.tries, sc.PINTries())
		})
	}
	t.Run("invalid PIN format", func(t *testing.T) {
		require.ErrorIs(t, emv.VerifyPIN(ctx, card, "12a4"), emv.ErrInvalidPIN)
		require.ErrorIs(t, emv.VerifyPIN(ctx, card, "123"), emv.ErrInvalidPIN)
	})
	t.Run("blocked survives reset", func(t *testing.T) {
		sc.Reset()
		_, err := emv.Read(ctx, card, o)
		require.NoError(t, err)
		require.ErrorIs(t, emv.VerifyPIN(ctx, card, "123456"), cardio.ErrBlocked)
	})
}

func TestTranscriptOfReadIsMasked(t *testing.T) {
	card, _ := connect(t, image(t, "default.json"))
	tr := cardio.NewTranscript()
	f, err := emv.Read(ctxT(t), tr.Wrap(card), opts(t))
	require.NoError(t, err)
	require.NoError(t, emv.VerifyPIN(ctxT(t), tr.Wrap(card), "123456"))
	out := tr.String()
	require.NotContains(t, out, f.PAN.Digits())
	require.NotContains(t, out, "123456")
	require.Contains(t, out, "621785*********2349")
	require.Equal(t, f.APDUs+1, tr.Len())
}

func BenchmarkReadInProcess(b *testing.B) {
	sc, err := cardsim.Load(cardsDir + "default.json")
	require.NoError(b, err)
	r := cardsim.NewReaders(sc)
	ctx := context.Background()
	o := emv.Options{CAKeys: caKeys(b), Fast: true, Now: func() time.Time { return testNow }}
	apdus := 0
	for b.Loop() {
		card, err := r.Connect(ctx, cardsim.ReaderName, cardio.ShareExclusive)
		if err != nil {
			b.Fatal(err)
		}
		f, err := emv.Read(ctx, card, o)
		if err != nil || !f.ODA.Verified {
			b.Fatalf("read: %v", err)
		}
		apdus = f.APDUs
	}
	b.ReportMetric(float64(apdus), "APDUs/read")
}
