// Package loginname says when two login names (e-mail addresses or user names) name the
// same account. Signup, login, login throttling, the store's unique index and the
// migration that built it all use Key, so no two of them can disagree.
package loginname

import (
	"strings"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Key returns the form under which a login name is looked up and kept unique:
// surrounding white space removed, NFKC (fullwidth and other compatibility forms become
// the plain characters; composed and decomposed accents agree), Unicode full case
// folding (locale-independent, so it is the same on every server; "Straße" and
// "STRASSE" agree), and NFKC again, since folding can leave a string unnormalized
// (Unicode's NFKC_Casefold). Two names with the same key are the same account. The key
// is for comparison only: the name as the user typed it (trimmed) is what is shown.
func Key(name string) string {
	s := norm.NFKC.String(strings.TrimSpace(name))
	s = cases.Fold().String(s) // a Caser has state: one per call
	return norm.NFKC.String(s)
}
