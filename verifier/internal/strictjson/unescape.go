package strictjson

import "unicode/utf8"

// Unescape decodes a JSON string from s[i] up to its closing quote, appending the
// decoded bytes to out, and returns out and the index just past the closing quote. i is
// at or after the opening quote's successor, never inside an escape. Control characters,
// unknown escapes and a missing closing quote are ErrSyntax; invalid UTF-8 and escapes
// of lone surrogates are ErrInvalidUTF8.
//
// It is generic so that Parse (bytes) and the gate's request reader (a string) share
// one strict decoder.
func Unescape[S ~string | ~[]byte](s S, i int, out []byte) ([]byte, int, error) {
	for {
		if i >= len(s) {
			return out, i, ErrSyntax
		}
		c := s[i]
		switch {
		case c == '"':
			return out, i + 1, nil
		case c < 0x20:
			return out, i, ErrSyntax
		case c < utf8.RuneSelf && c != '\\':
			out = append(out, c)
			i++
		case c >= utf8.RuneSelf:
			end := min(i+utf8.UTFMax, len(s))
			r, n := utf8.DecodeRuneInString(string(s[i:end]))
			if r == utf8.RuneError && n <= 1 {
				return out, i, ErrInvalidUTF8
			}
			out = append(out, s[i:i+n]...)
			i += n
		default: // backslash
			if i+1 >= len(s) {
				return out, i, ErrSyntax
			}
			e := s[i+1]
			i += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := hex4(s, i)
				if !ok {
					return out, i, ErrSyntax
				}
				i += 4
				switch {
				case r >= 0xDC00 && r <= 0xDFFF:
					return out, i, ErrInvalidUTF8 // lone low surrogate
				case r >= 0xD800 && r <= 0xDBFF:
					if i+1 >= len(s) || s[i] != '\\' || s[i+1] != 'u' {
						return out, i, ErrInvalidUTF8 // high surrogate not followed by \u
					}
					lo, ok := hex4(s, i+2)
					if !ok {
						return out, i, ErrSyntax
					}
					if lo < 0xDC00 || lo > 0xDFFF {
						return out, i, ErrInvalidUTF8
					}
					i += 6
					r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
				}
				out = utf8.AppendRune(out, r)
			default:
				return out, i, ErrSyntax
			}
		}
	}
}

func hex4[S ~string | ~[]byte](s S, i int) (rune, bool) {
	if len(s)-i < 4 {
		return 0, false
	}
	var r rune
	for j := i; j < i+4; j++ {
		c := s[j]
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
