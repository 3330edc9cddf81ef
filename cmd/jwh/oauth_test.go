package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/jwh-cli/jwh/internal/sandbox"
)

// The script verbs of OAuth tenants' deliveries, tokens and files (see
// TestScripts):
//
//	bearer-deliver [-secret S] [-alg none|HS512] [-tamper] [-iat OFFSET] [-no-times] URL STATUS
//	    send a jira:issue_updated delivery to URL with "Authorization:
//	    Bearer" and a JWT as the sandbox signs the OAuth app's deliveries
//	    (iss jira:$CLOUD_ID, aud $OAUTH_CLIENT_ID, sub, iat, exp 3m later,
//	    context), HS256 with $OAUTH_CLIENT_SECRET unless -secret; -alg
//	    signs with another algorithm (none: no signature), -tamper changes
//	    the claims after signing, -iat moves iat (and exp) by OFFSET (-10m,
//	    5m), -no-times leaves iat and exp out. Asserts the answer's status;
//	    its body is the verb's stdout.
//	bearer-get TOKEN_FILE URL STATUS
//	    GET URL with "Authorization: Bearer" and the token in TOKEN_FILE
//	    (stdout: the last command's), as curl -H "Authorization: Bearer
//	    $(jwh token)" does, and assert the answer's status.
//	perm FILE MODE
//	    assert that FILE's permission bits are MODE (octal, e.g. 0600).

// deliveries numbers the identifiers of bearer-deliver.
var deliveries atomic.Int64

func cmdBearerDeliver(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "bearer-deliver")
	fs := flag.NewFlagSet("bearer-deliver", flag.ContinueOnError)
	secret := fs.String("secret", oauthClientSecret, "")
	alg := fs.String("alg", "HS256", "")
	tamper := fs.Bool("tamper", false, "")
	offset := fs.Duration("iat", 0, "")
	noTimes := fs.Bool("no-times", false, "")
	ts.Check(fs.Parse(args))
	if fs.NArg() != 2 {
		ts.Fatalf("usage: bearer-deliver [-secret S] [-alg none|HS512] [-tamper] [-iat OFFSET] [-no-times] URL STATUS")
	}
	want, err := strconv.Atoi(fs.Arg(1))
	ts.Check(err)
	cloud := ts.Getenv("CLOUD_ID")
	claims := jwt.MapClaims{
		"iss": "jira:" + cloud, "aud": oauthClientID, "sub": sandbox.AccountID(sandbox.DefaultUser),
		"context": map[string]string{"cloudId": cloud},
	}
	if !*noTimes {
		iat := time.Now().Add(*offset)
		claims["iat"], claims["exp"] = iat.Unix(), iat.Add(sandbox.BearerDeliveryTTL).Unix()
	}
	var tok string
	switch *alg {
	case "none":
		tok, err = jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	case "HS256", "HS512":
		tok, err = jwt.NewWithClaims(jwt.GetSigningMethod(*alg), claims).SignedString([]byte(*secret))
	default:
		ts.Fatalf("bearer-deliver: unknown -alg %q", *alg)
	}
	ts.Check(err)
	if *tamper {
		claims["sub"] = "someone-else"
		other, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("any"))
		ts.Check(err)
		parts, otherParts := strings.Split(tok, "."), strings.Split(other, ".")
		tok = parts[0] + "." + otherParts[1] + "." + parts[2]
	}
	n := deliveries.Add(1)
	body := fmt.Sprintf(`{"timestamp":%d,"webhookEvent":"jira:issue_updated","issue":{"id":"%d","key":"BRR-%d","fields":{"project":{"key":"BRR"}}},"matchedWebhookIds":[1000]}`,
		time.Now().UnixMilli(), 20000+n, n)
	req, err := http.NewRequest(http.MethodPost, fs.Arg(0), strings.NewReader(body))
	ts.Check(err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Atlassian-Webhook-Identifier", fmt.Sprintf("bearer-%d", n))
	req.Header.Set("Authorization", "Bearer "+tok)
	fmt.Fprint(ts.Stdout(), string(sendWant(ts, "bearer-deliver", req, want)))
}

// sendWant sends req, fails the script unless it is answered with the
// status want, and returns the answer's body.
func sendWant(ts *testscript.TestScript, verb string, req *http.Request, want int) []byte {
	resp, err := (&http.Client{Timeout: eventually}).Do(req)
	ts.Check(err)
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	ts.Check(err)
	if resp.StatusCode != want {
		ts.Fatalf("%s: %s, want %d: %s", verb, resp.Status, want, answer)
	}
	return answer
}

func cmdBearerGet(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "bearer-get")
	if len(args) != 3 {
		ts.Fatalf("usage: bearer-get TOKEN_FILE URL STATUS")
	}
	want, err := strconv.Atoi(args[2])
	ts.Check(err)
	req, err := http.NewRequest(http.MethodGet, args[1], nil)
	ts.Check(err)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(ts.ReadFile(args[0])))
	sendWant(ts, "bearer-get", req, want)
}

func cmdPerm(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "perm")
	if len(args) != 2 {
		ts.Fatalf("usage: perm FILE MODE")
	}
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	if got := fi.Mode().Perm(); got != os.FileMode(want) {
		ts.Fatalf("%s has mode %#o, want %#o", args[0], got, want)
	}
}
