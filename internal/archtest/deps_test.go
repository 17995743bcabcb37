package archtest

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/volcard/volcard"

// pkg is what go list tells of one package.
type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// listModule runs go list -deps on every package of the module (tests
// excluded: test-only imports may use anything) and returns the module's
// own packages by import path.
func listModule(t *testing.T) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs[p.ImportPath] = p
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

// under reports whether path is root or inside it.
func under(path, root string) bool { return path == root || strings.HasPrefix(path, root+"/") }

// domain are the core and the feature packages: the rules of the domain
// apply to them (not to issuance/store, the adapter, nor to issuance/seed
// and the test fixtures).
var domain = []string{
	module + "/issuance",
	module + "/issuance/checkin",
	module + "/issuance/onsite",
	module + "/issuance/reports",
	module + "/issuance/roster",
}

// forbidden names what the domain must not depend on, even indirectly.
var forbidden = map[string]string{
	"github.com/labstack/echo":   "HTTP (Echo) belongs to api",
	"github.com/ebfe/scard":      "PC/SC belongs to cardio/pcsc",
	"github.com/moov-io/iso8583": "ISO 8583 belongs to bankgw",
	"gorm.io/gorm":               "GORM belongs to issuance/store",
	module + "/cardio":           "card code belongs to cardio; the domain checks evidence through a port",
	module + "/bankgw":           "the bank gateway is an adapter over the domain",
	module + "/api":              "the HTTP API is an adapter over the domain",
	module + "/personalization":  "personalization is card work beside the domain",
	module + "/issuance/store":   "storage is an adapter: the domain declares ports",
}

func TestDomainDependencies(t *testing.T) {
	pkgs := listModule(t)
	for _, d := range domain {
		p, ok := pkgs[d]
		if !ok {
			t.Errorf("%s: not in the module (update the rule list)", d)
			continue
		}
		for _, dep := range p.Deps {
			for bad, why := range forbidden {
				if under(dep, bad) {
					t.Errorf("%s depends on %s: %s", d, dep, why)
				}
			}
		}
	}
}

func TestCardCodeDependencies(t *testing.T) {
	pkgs := listModule(t)
	n := 0
	for path, p := range pkgs {
		if !under(path, module+"/cardio") {
			continue
		}
		n++
		for _, dep := range p.Deps {
			if !strings.HasPrefix(dep, module+"/") {
				continue
			}
			// The card code may use the shared vocabularies (evidence,
			// pii) and the test fixtures, nothing of the domain or its
			// adapters.
			if under(dep, module+"/cardio") || under(dep, module+"/evidence") || under(dep, module+"/pii") || under(dep, module+"/internal") {
				continue
			}
			t.Errorf("%s depends on %s: cardio imports nothing of the domain", path, dep)
		}
	}
	if n < 5 {
		t.Fatalf("only %d cardio packages found", n)
	}
}

// TestVocabularies keeps the shared vocabularies leaves: evidence and pii
// import only the standard library (and evidence pii).
func TestVocabularies(t *testing.T) {
	pkgs := listModule(t)
	for _, v := range []string{module + "/evidence", module + "/pii"} {
		p, ok := pkgs[v]
		if !ok {
			t.Fatalf("%s: not in the module", v)
		}
		for _, dep := range p.Deps {
			if strings.Contains(strings.Split(dep, "/")[0], ".") && dep != module+"/pii" {
				t.Errorf("%s depends on %s: a vocabulary imports only the standard library", v, dep)
			}
		}
	}
}

// TestAPIAndClients keeps the two sides of the HTTP API apart (issue #21):
// the server (api) and the client side (client and the client programs
// under it) share only the bodies in wire; neither depends on the other,
// and wire depends on nothing of the module but the evidence vocabulary.
func TestAPIAndClients(t *testing.T) {
	pkgs := listModule(t)
	sides := 0
	for path, p := range pkgs {
		var bad string
		switch {
		case under(path, module+"/api"):
			bad = module + "/client"
		case under(path, module+"/client"):
			bad = module + "/api"
		default:
			continue
		}
		sides++
		for _, dep := range p.Deps {
			if under(dep, bad) {
				t.Errorf("%s depends on %s: the server and the client side share only wire", path, dep)
			}
		}
	}
	if sides < 6 {
		t.Fatalf("only %d api and client packages found", sides)
	}
	w, ok := pkgs[module+"/wire"]
	if !ok {
		t.Fatalf("%s: not in the module", module+"/wire")
	}
	for _, dep := range w.Deps {
		if strings.Contains(strings.Split(dep, "/")[0], ".") && !under(dep, module+"/evidence") && !under(dep, module+"/pii") {
			t.Errorf("%s depends on %s: wire holds bodies only (and the evidence vocabulary)", w.ImportPath, dep)
		}
	}
}

// TestRulesCanFail proves the checks see real edges: the bank gateway does
// depend on ISO 8583 and the store on GORM, so a rule list that matched
// nothing would be caught here.
func TestRulesCanFail(t *testing.T) {
	pkgs := listModule(t)
	has := func(from, to string) bool {
		for _, d := range pkgs[from].Deps {
			if under(d, to) {
				return true
			}
		}
		return false
	}
	for _, edge := range [][2]string{
		{module + "/bankgw", "github.com/moov-io/iso8583"},
		{module + "/issuance/store", "gorm.io/gorm"},
		{module + "/api", "github.com/labstack/echo"},
		{module + "/cardio/pcsc", "github.com/ebfe/scard"},
		{module + "/personalization", module + "/cardio"},
		{module + "/client/terminal", module + "/client"},
		{module + "/client/terminal", module + "/wire"},
		{module + "/api", module + "/wire"},
		{module + "/wire", module + "/evidence"},
	} {
		if !has(edge[0], edge[1]) {
			t.Errorf("%s no longer depends on %s: the rule that forbids it elsewhere is untested", edge[0], edge[1])
		}
	}
}
