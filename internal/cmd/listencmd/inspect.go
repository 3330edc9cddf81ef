package listencmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/inspect"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/listen"
	"github.com/jwh-cli/jwh/internal/replay"
	"github.com/jwh-cli/jwh/internal/urlpolicy"
)

// This file holds --inspect: the web inspector beside the listener, fed
// the listener's record lines, and its Replay button.

// checkInspect checks --inspect and --inspect-keep. The inspector shows
// every delivery and replays them, signed with the tenants' secrets: it is
// for this machine only, so its address must be a loopback one.
func checkInspect(opts *Options, keepGiven bool) error {
	if opts.Inspect == "" {
		if keepGiven {
			return cmdutil.UsageErrorf("--inspect-keep needs --inspect")
		}
		return nil
	}
	if err := cmdutil.CheckAddr("--inspect", opts.Inspect); err != nil {
		return err
	}
	host, _, _ := net.SplitHostPort(opts.Inspect)
	if !urlpolicy.IsLoopbackHost(host) {
		return cmdutil.UsageErrorf("--inspect=%s is not a loopback address: the inspector shows every delivery and replays them, so it is for this machine only; use 127.0.0.1, [::1] or localhost", opts.Inspect)
	}
	if opts.Inspect == opts.Addr {
		return cmdutil.UsageErrorf("--inspect=%s is the listener's --addr: give the inspector an address of its own, e.g. --inspect=%s", opts.Inspect, inspect.DefaultAddr)
	}
	if opts.InspectKeep <= 0 {
		return cmdutil.UsageErrorf("invalid --inspect-keep %d: it must be positive", opts.InspectKeep)
	}
	return nil
}

// openInspector makes the web inspector when --inspect asks for one, and
// the listener it is to serve on. self is the address the deliveries
// arrive on.
func openInspector(opts *Options, self net.Addr) (*inspect.Server, net.Listener, error) {
	ln := opts.InspectListener
	if opts.Inspect == "" && ln == nil {
		return nil, nil, nil
	}
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", opts.Inspect); err != nil {
			var op *net.OpError
			if errors.As(err, &op) && op.Err != nil {
				err = op.Err
			}
			return nil, nil, fmt.Errorf("cannot listen on %s for the inspector: %w; choose another address with --inspect=ADDR", opts.Inspect, err)
		}
	}
	insp, err := inspect.New(ln.Addr(), inspect.Config{
		Keep:         opts.InspectKeep,
		Replay:       replayer(opts, self),
		ReplayTarget: opts.ForwardTo,
	})
	if err != nil {
		ln.Close()
		return nil, nil, cmdutil.UsageErrorf("--inspect: %v", err)
	}
	return insp, ln, nil
}

// serveInspector serves insp on ln, if any, until ctx is done or the
// returned stop is called; stop returns once it has stopped.
func serveInspector(ctx context.Context, ios *iostreams.IOStreams, insp *inspect.Server, ln net.Listener) (stop func()) {
	if insp == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := insp.Serve(ctx, ln); err != nil {
			fmt.Fprintf(ios.ErrOut, "inspector stopped: %v\n", err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// replayer returns what the inspector's Replay button calls: it re-sends
// the delivery of a record line to target as jwh replay does (package
// replay), byte for byte with a new identifier, signed for the tenant
// that verified it (cmdutil.ReplaySigner) with the qsh relative to
// --base-path, at the command's clock. A replay sent to this very listener (self) names the record
// it replays (listen.HeaderReplayOf), so that its own record says so.
func replayer(opts *Options, self net.Addr) inspect.ReplayFunc {
	var (
		mu     sync.Mutex
		signer *cmdutil.ReplaySigner // made on the first replay
	)
	signerOf := func() (*cmdutil.ReplaySigner, error) {
		mu.Lock()
		defer mu.Unlock()
		if signer != nil {
			return signer, nil
		}
		cfg, err := opts.Config()
		if err != nil {
			return nil, err
		}
		s, err := cmdutil.NewReplaySigner(cfg, opts.Secrets, opts.Getenv, opts.TenantFlag)
		if err != nil {
			return nil, err
		}
		signer = s
		return s, nil
	}
	return func(ctx context.Context, line []byte, target *url.URL) (inspect.ReplayResult, error) {
		rec, err := listen.ParseLine(line)
		if err != nil {
			return inspect.ReplayResult{}, err
		}
		if rec.Verdict == listen.VerdictRefused {
			// As jwh replay: a refused request is not a delivery.
			return inspect.ReplayResult{}, fmt.Errorf("#%d was refused by the listener: it is not a delivery, and is not replayed", rec.Seq)
		}
		to, err := replay.Target(rec, target)
		if err != nil {
			return inspect.ReplayResult{}, err
		}
		s, err := signerOf()
		if err != nil {
			return inspect.ReplayResult{}, err
		}
		creds, err := s.Credentials(rec)
		if err != nil {
			return inspect.ReplayResult{}, err
		}
		p := &replay.Replayer{
			Credentials:  func(string) (replay.Credentials, error) { return creds, nil },
			BasePath:     opts.BasePath,
			MarkReplayOf: forwardsToItself(to, self),
			Now:          opts.Now,
		}
		res, err := p.Send(ctx, rec, to)
		return inspect.ReplayResult{Status: res.Status, Latency: res.Latency, Target: res.Target}, err
	}
}
