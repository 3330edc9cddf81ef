package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/jwh-cli/jwh/internal/inspect"
)

// The scripts' verbs for jwh listen --inspect: what its page does, without
// a browser (the browser test is internal/cmd/listencmd's).

// inspectorToken reads the page's token from the inspector at addr.
func inspectorToken(ts *testscript.TestScript, ctx context.Context, addr string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
	ts.Check(err)
	resp, err := http.DefaultClient.Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	page, err := io.ReadAll(resp.Body)
	ts.Check(err)
	m := regexp.MustCompile(`name="jwh-token" content="([0-9a-f]+)"`).FindSubmatch(page)
	if m == nil {
		ts.Fatalf("no token in the inspector's page (%s)", resp.Status)
	}
	return string(m[1])
}

// cmdInspectRecords: inspect-records ADDR N prints the first N records of
// the inspector's stream, one a line, waiting for them as the page does.
func cmdInspectRecords(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "inspect-records")
	if len(args) != 2 {
		ts.Fatalf("usage: inspect-records ADDR N")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	ctx, cancel := context.WithTimeout(context.Background(), eventually)
	defer cancel()
	token := inspectorToken(ts, ctx, args[0])
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+args[0]+"/events?token="+token, nil)
	ts.Check(err)
	resp, err := http.DefaultClient.Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	event := ""
	for got := 0; got < n; {
		line, err := br.ReadString('\n')
		if err != nil {
			ts.Fatalf("the inspector's stream after %d records: %v", got, err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && event == "record":
			io.WriteString(ts.Stdout(), strings.TrimPrefix(line, "data: ")+"\n")
			got++
		}
	}
}

// cmdInspectReplay: inspect-replay ADDR SEQ [URL] presses the page's
// Replay button for record SEQ (with URL typed in, if given) and prints
// the inspector's answer.
func cmdInspectReplay(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "inspect-replay")
	if len(args) != 2 && len(args) != 3 {
		ts.Fatalf("usage: inspect-replay ADDR SEQ [URL]")
	}
	seq, err := strconv.Atoi(args[1])
	ts.Check(err)
	to := ""
	if len(args) == 3 {
		to = args[2]
	}
	ctx, cancel := context.WithTimeout(context.Background(), eventually)
	defer cancel()
	token := inspectorToken(ts, ctx, args[0])
	body, err := json.Marshal(map[string]any{"seq": seq, "to": to})
	ts.Check(err)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+args[0]+"/replay", bytes.NewReader(body))
	ts.Check(err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(inspect.TokenHeader, token)
	resp, err := http.DefaultClient.Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	ts.Check(err)
	io.WriteString(ts.Stdout(), resp.Status+" "+string(answer))
}
