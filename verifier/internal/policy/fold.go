package policy

import "unicode/utf8"

//go:generate go run gen_fold.go

// foldRange is one entry of foldRanges (fold_table.go).
type foldRange struct {
	lo, hi rune
	to     string
	step   bool
}

// maxDecodeRounds bounds how often a path is percent-decoded: a path still encoded
// after that many rounds is refused (no client encodes a path more than twice).
const maxDecodeRounds = 8

// fold returns path as the most lenient upstream could read it, lower-cased: the key
// protected rules are matched against (see Policy.Match). It applies, as far as they
// go, every normalisation some server applies to a request path:
//
//   - percent-decoding, repeated until no escape is left (servers that decode twice);
//   - code points read as other characters (fold_table.go: Unicode compatibility forms
//     such as fullwidth letters and slashes, case mappings such as 'ı' to 'I' and the
//     Kelvin sign to 'k', default-ignorable code points such as the soft hyphen
//     dropped, white space, and the separators of Windows' best-fit conversion);
//   - '\' as '/' (Windows), empty segments dropped ("//");
//   - in each segment: ";parameters" (servlet containers) and ":suffixes" (NTFS
//     streams) dropped, leading spaces and trailing spaces and dots trimmed (Windows);
//   - letter case (case-insensitive routing and file systems).
//
// ok is false for a path no upstream should be asked to read, because servers disagree
// on it and no browser sends it: control characters or NUL, invalid UTF-8 (overlong
// forms included), an escape left after maxDecodeRounds, or a segment made only of
// dots and spaces ("." and ".." included, however spelled: "%2E%2E", "..;x", ". .").
// Browsers resolve dot segments before they send a URL, so refusing them costs real
// users nothing, and it keeps the fold a plain function of the path: an upstream that
// resolves ".." at another stage than another one could otherwise reach any rule.
func fold(path string) (string, bool) {
	s := path
	for round := 0; ; round++ {
		next, changed, ok := decodeOnce(s)
		if !ok {
			return "", false
		}
		if !changed {
			break
		}
		if round == maxDecodeRounds {
			return "", false
		}
		s = next
	}
	out := make([]byte, 0, len(s)+1)
	endsWithSeparator := false
	for start := 0; start <= len(s); {
		end := start
		for end < len(s) && s[end] != '/' && s[end] != '\\' {
			end++
		}
		seg := s[start:end]
		for i := 0; i < len(seg); i++ {
			if seg[i] == ';' || seg[i] == ':' {
				seg = seg[:i]
				break
			}
		}
		trimmed := seg
		for len(trimmed) > 0 && trimmed[0] == ' ' {
			trimmed = trimmed[1:]
		}
		for len(trimmed) > 0 && (trimmed[len(trimmed)-1] == ' ' || trimmed[len(trimmed)-1] == '.') {
			trimmed = trimmed[:len(trimmed)-1]
		}
		switch {
		case trimmed != "":
			out = append(out, '/')
			for i := 0; i < len(trimmed); i++ {
				c := trimmed[i]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				out = append(out, c)
			}
			endsWithSeparator = false
		case seg != "":
			return "", false // only dots and spaces
		default:
			endsWithSeparator = start > 0 || end < len(s)
		}
		start = end + 1
	}
	if len(out) == 0 || endsWithSeparator {
		out = append(out, '/')
	}
	return string(out), true
}

// decodeOnce percent-decodes every valid escape of s (either hex case), checks the
// result (valid UTF-8, no control characters) and replaces the code points of
// foldRanges. changed reports whether anything was decoded or replaced.
func decodeOnce(s string) (out string, changed, ok bool) {
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			if b == nil {
				b = append(make([]byte, 0, len(s)), s[:i]...)
			}
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		if b != nil {
			b = append(b, c)
		}
	}
	if b != nil {
		s, changed = string(b), true
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return "", false, false
		} else if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	if ascii {
		return s, changed, true
	}
	if !utf8.ValidString(s) {
		return "", false, false
	}
	var m []byte
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r >= 0x80 && r <= 0x9f {
			return "", false, false // C1 control
		}
		to, mapped := foldRune(r)
		if mapped && m == nil {
			m = append(make([]byte, 0, len(s)), s[:i]...)
		}
		switch {
		case mapped:
			m = append(m, to...)
		case m != nil:
			m = append(m, s[i:i+n]...)
		}
		i += n
	}
	if m == nil {
		return s, changed, true
	}
	return string(m), true, true
}

// foldRune looks r up in foldRanges.
func foldRune(r rune) (string, bool) {
	if r < 0x80 {
		return "", false
	}
	lo, hi := 0, len(foldRanges)
	for lo < hi {
		mid := (lo + hi) / 2
		switch e := &foldRanges[mid]; {
		case r < e.lo:
			hi = mid
		case r > e.hi:
			lo = mid + 1
		case e.step:
			return asciiStrings[e.to[0]+byte(r-e.lo)], true
		default:
			return e.to, true
		}
	}
	return "", false
}

// asciiStrings[c] is string(rune(c)), without an allocation per lookup.
var asciiStrings = func() (t [128]string) {
	for i := range t {
		t[i] = string(rune(i))
	}
	return
}()
