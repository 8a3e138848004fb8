package components

import (
	"context"
	"io"

	"github.com/a-h/templ"
)

// text writes s HTML-escaped straight to the page: `@text(s)` renders
// exactly what `{ s }` does (html.EscapeString's escapes), without the
// two copies templ's generated code makes of every string expression
// (fmt.Sprint in templ.JoinStringErrs, then html.EscapeString). It is for
// the long or frequent text of the pages served on every request.
func text(s string) templ.Component { return escapedText(s) }

type escapedText string

func (t escapedText) Render(_ context.Context, w io.Writer) error {
	return writeEscaped(w, string(t))
}

// writeEscaped writes s with &, <, >, ' and " escaped as html.EscapeString
// escapes them, in runs between the escaped bytes.
func writeEscaped(w io.Writer, s string) error {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '\'':
			esc = "&#39;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			esc = "&#34;"
		default:
			continue
		}
		if _, err := io.WriteString(w, s[last:i]); err != nil {
			return err
		}
		if _, err := io.WriteString(w, esc); err != nil {
			return err
		}
		last = i + 1
	}
	_, err := io.WriteString(w, s[last:])
	return err
}
