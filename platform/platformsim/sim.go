package platformsim

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/volcard/volcard/platform"
)

// Config configures a Sim.
type Config struct {
	// Token is the bearer token callers must present. Required.
	Token string
	// Prefix begins the numbers it hands out (default "IZY"), followed by
	// 9 digits counting from First (default 1).
	Prefix string
	First  int64
	// Latency delays every answer.
	Latency time.Duration
	// Logger; default slog.Default(). Logs never hold personal data.
	Logger *slog.Logger
}

type person struct {
	number string
	name   string
}

type stored struct {
	sum    [32]byte
	status int
	body   []byte
}

// Sim is the simulated platform. It is an http.Handler.
type Sim struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	people   map[string]person // id_type + "/" + id_number → person
	next     int64
	keys     map[string]stored
	calls    int
	fail     int // answer the next fail calls with failWith
	failWith int

	srv *http.Server
	ln  net.Listener
}

// New returns a Sim.
func New(cfg Config) (*Sim, error) {
	if cfg.Token == "" {
		return nil, errors.New("platformsim: token required")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "IZY"
	}
	if cfg.First <= 0 {
		cfg.First = 1
	}
	s := &Sim{cfg: cfg, log: cfg.Logger, people: map[string]person{}, next: cfg.First, keys: map[string]stored{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s, nil
}

func personKey(idType, idNumber string) string {
	return idType + "/" + strings.ToUpper(strings.TrimSpace(idNumber))
}

// Add registers a person directly (someone registered on the platform
// before volcard sees them) and returns the number.
func (s *Sim) Add(idType, idNumber, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := personKey(idType, idNumber)
	if p, ok := s.people[k]; ok {
		return p.number
	}
	p := person{number: s.newNumber(), name: name}
	s.people[k] = p
	return p.number
}

func (s *Sim) newNumber() string {
	n := fmt.Sprintf("%s%09d", s.cfg.Prefix, s.next)
	s.next++
	return n
}

// Lookup returns the number the platform holds for a person.
func (s *Sim) Lookup(idType, idNumber string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.people[personKey(idType, idNumber)]
	return p.number, ok
}

// Registered returns how many people the platform holds.
func (s *Sim) Registered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.people)
}

// Calls returns how many registration calls were answered (faults
// included).
func (s *Sim) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// FailNext answers the next n calls with status (and a problem body)
// without looking at them.
func (s *Sim) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail, s.failWith = n, status
}

// ServeHTTP implements http.Handler: POST /v1/registrations.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != platform.RegistrationPath {
		problem(w, http.StatusNotFound, "not_found", "no such path")
		return
	}
	if r.Method != http.MethodPost {
		problem(w, http.StatusMethodNotAllowed, "method_not_allowed", "POST only")
		return
	}
	if s.cfg.Latency > 0 {
		time.Sleep(s.cfg.Latency)
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.Token)) != 1 {
		problem(w, http.StatusUnauthorized, platform.ProblemUnauthorized, "bearer token required")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		problem(w, http.StatusBadRequest, platform.ProblemInvalid, "unreadable body")
		return
	}
	status, answer := s.answer(r.Header.Get("Idempotency-Key"), body)
	w.Header().Set("Content-Type", "application/json")
	if status >= 300 {
		w.Header().Set("Content-Type", "application/problem+json")
	}
	w.WriteHeader(status)
	_, _ = w.Write(answer)
}

// answer decides one call under the lock: faults first, then a stored
// answer for a repeated key, then the registration.
func (s *Sim) answer(key string, body []byte) (int, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.fail > 0 {
		s.fail--
		return s.failWith, problemBody(s.failWith, platform.ProblemUnavailable, "injected fault")
	}
	if key == "" || len(key) > 100 {
		return http.StatusBadRequest, problemBody(400, platform.ProblemInvalid, "Idempotency-Key required (1–100 characters)")
	}
	sum := sha256.Sum256(body)
	if st, ok := s.keys[key]; ok {
		if st.sum != sum {
			return 422, problemBody(422, platform.ProblemIdempotencyMismatch, "the key was used with another body")
		}
		return st.status, st.body
	}
	status, out := s.register(body)
	if status < 300 {
		// Only successes are kept: a refusal is decided afresh when the key
		// comes again (an operator's retry after a correction).
		s.keys[key] = stored{sum: sum, status: status, body: out}
	}
	return status, out
}

func (s *Sim) register(body []byte) (int, []byte) {
	var in platform.Registration
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return 400, problemBody(400, platform.ProblemInvalid, "body is not a registration")
	}
	switch {
	case strings.TrimSpace(in.Name) == "":
		return 422, problemBody(422, platform.ProblemInvalid, "name required")
	case in.IDType != "resident_id" && in.IDType != "passport" && in.IDType != "hk_macau_permit" && in.IDType != "taiwan_permit":
		return 422, problemBody(422, platform.ProblemInvalid, "unknown id_type")
	case strings.TrimSpace(in.IDNumber) == "":
		return 422, problemBody(422, platform.ProblemInvalid, "id_number required")
	case in.Phone == "":
		return 422, problemBody(422, platform.ProblemInvalid, "phone required")
	case in.Source != "branch" && in.Source != "on_site":
		return 422, problemBody(422, platform.ProblemInvalid, "source must be branch or on_site")
	}
	k := personKey(in.IDType, in.IDNumber)
	if p, ok := s.people[k]; ok {
		if p.name != strings.TrimSpace(in.Name) {
			return 409, problemBody(409, platform.ProblemNameMismatch, "the ID number is registered under another name")
		}
		s.log.Info("platformsim: matched", slog.Int64("request", in.RequestID), slog.String("number", p.number))
		return 200, mustJSON(platform.Registered{VolunteerNumber: p.number, Matched: true})
	}
	p := person{number: s.newNumber(), name: strings.TrimSpace(in.Name)}
	s.people[k] = p
	s.log.Info("platformsim: registered", slog.Int64("request", in.RequestID), slog.String("number", p.number))
	return 201, mustJSON(platform.Registered{VolunteerNumber: p.number})
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func problemBody(status int, typ, detail string) []byte {
	return mustJSON(platform.Problem{Type: typ, Status: status, Title: http.StatusText(status), Detail: detail})
}

func problem(w http.ResponseWriter, status int, typ, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_, _ = w.Write(problemBody(status, typ, detail))
}

// Start serves on addr (127.0.0.1:0 for any free port) over plain HTTP,
// or TLS when tlsCfg is set, until Close.
func (s *Sim) Start(addr string, tlsCfg *tls.Config) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("platformsim: listen: %w", err)
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	go func() { _ = s.srv.Serve(ln) }()
	return nil
}

// Addr is the address it listens on (after Start).
func (s *Sim) Addr() string { return s.ln.Addr().String() }

// Close stops serving.
func (s *Sim) Close() {
	if s.srv != nil {
		_ = s.srv.Close()
	}
}
