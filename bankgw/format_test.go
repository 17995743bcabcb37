package bankgw_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw"
)

// TestFormatMasks: printing an applicant or an advice with any verb, on
// its own or inside a request, shows no name, ID number, phone or PAN.
func TestFormatMasks(t *testing.T) {
	a := bankgw.Applicant{Name: "李四", EmbossName: "LI SI", IDType: "01", IDNumber: "441402199003070018",
		Phone: "13800138000", Product: "BOCVOL01", Branch: "MZ0001"}
	req := bankgw.ApplicationRequest{ApplicationNumber: "A1", Applicant: a}
	adv := bankgw.Advice{Kind: bankgw.AdviceSpending, PAN: "6216600000000012349", Amount: 100}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{a, &a, req, adv, &adv} {
			out := fmt.Sprintf(verb, v)
			for _, secret := range []string{"李四", "LI SI", "441402199003070018", "13800138000", "6216600000000012349"} {
				require.NotContains(t, out, secret, "%s of %T", verb, v)
			}
		}
	}
	require.Contains(t, fmt.Sprint(a), "BOCVOL01", "the non-personal fields are still there")
}
