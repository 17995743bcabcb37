package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/client/terminal"
)

// runBenefitsTerminal runs "volcard terminal --mode benefits".
func runBenefitsTerminal(ctx context.Context, o terminalOptions, stdin io.Reader, stdout, stderr io.Writer) error {
	api, err := client.New(o.server, o.token)
	if err != nil {
		return withExit(exitUsage, err)
	}
	pad, err := pinPad(o.pinFile, stdin, stderr)
	if err != nil {
		return err
	}
	readers, closeReaders, err := terminalReaders(ctx, o)
	if err != nil {
		return err
	}
	defer closeReaders()
	if o.offer < 0 {
		return withExit(exitUsage, errors.New("--offer must be a positive offer id"))
	}
	m, err := terminal.NewMerchant(terminal.MerchantConfig{API: api, PINPad: pad, Readers: readers, Reader: o.reader,
		RedeemOffer: o.offer, Out: stdout, JSON: o.asJSON})
	if err != nil {
		return withExit(exitUsage, err)
	}
	switch err := m.Start(ctx); {
	case err == nil:
	case errors.Is(err, terminal.ErrTokenRefused):
		return withExit(exitUsage, errors.New("the server refuses this token (unknown or revoked): check --token or "+
			"VOLCARD_TOKEN; a terminal token is made with: volcard token create --role terminal --org ORG_ID"))
	case errors.Is(err, terminal.ErrNotTerminalToken):
		return withExit(exitUsage, errors.New("this token is not a terminal token (another role, or a terminal token "+
			"made without an organisation): make one with: volcard token create --role terminal --org ORG_ID"))
	case client.Retryable(err):
		fmt.Fprintf(stderr, "warning: the server cannot be reached (%v): token not checked; benefit checks need the "+
			"server, cards are refused until it answers\n", err)
	default:
		return withExit(exitFailure, fmt.Errorf("start-up check: %w", err))
	}
	fmt.Fprintln(stderr, "Benefits terminal: waiting for cards (Ctrl-C to stop)...")
	if err := m.Run(ctx); err != nil {
		return deviceError(err)
	}
	return nil
}

// errNoKeypad is the PIN pad's answer when there is no keyboard to type
// on and no --pin-file.
var errNoKeypad = errors.New("no keypad: standard input is not a terminal and no --pin-file was given")

// pinPad returns the terminal's PIN pad: the first line of file, read at
// every card (a script may change it between cards), or typed without echo
// on standard input when it is a terminal. With neither, offers that
// require the PIN are refused (a warning says so at start).
func pinPad(file string, stdin io.Reader, stderr io.Writer) (terminal.PINPad, error) {
	if file != "" {
		if _, err := os.Stat(file); err != nil {
			return nil, withExit(exitUsage, fmt.Errorf("--pin-file: %w", err))
		}
		return terminal.PINPadFunc(func(context.Context) (string, error) { return firstLine(file) }), nil
	}
	in, ok := stdin.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		fmt.Fprintln(stderr, "warning: no keypad (standard input is not a terminal, no --pin-file): offers that "+
			"require the PIN will be refused")
		return terminal.PINPadFunc(func(context.Context) (string, error) { return "", errNoKeypad }), nil
	}
	return terminal.PINPadFunc(func(context.Context) (string, error) {
		fmt.Fprint(stderr, "持卡人请输入 PIN（不回显，回车确认）/ Cardholder, enter your PIN: ")
		b, err := term.ReadPassword(int(in.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read PIN: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}), nil
}

// firstLine returns the first line of a file, trimmed; the error never
// holds the file's content.
func firstLine(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("--pin-file: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(io.LimitReader(f, 256))
	if !s.Scan() {
		return "", errors.New("--pin-file: empty")
	}
	return strings.TrimSpace(s.Text()), nil
}
