package inspect

import (
	"bytes"
	"embed"
	"html/template"
	"io"
	"log"
	"sync"
)

// pageFiles are the page: index.html (a template, for the token and the
// defaults), app.js and style.css. Plain files, no build step.
//
//go:embed page
var pageFiles embed.FS

// pageTemplate is parsed on first use, not when jwh starts: most runs
// never serve the page.
var pageTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.ParseFS(pageFiles, "page/index.html"))
})

// pageData is what index.html is filled in with.
type pageData struct {
	Token  string // the page's token, sent back on every request that needs it
	Target string // the default replay target (--forward-to), or ""
	Keep   int    // how many records the page holds
}

func renderPage(d pageData) ([]byte, error) {
	var b bytes.Buffer
	if err := pageTemplate().Execute(&b, d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// discardLog silences the HTTP server's log: a page that goes away
// mid-stream is not worth a line on the listener's terminal.
var discardLog = log.New(io.Discard, "", 0)
