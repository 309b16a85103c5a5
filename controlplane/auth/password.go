package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/edgeauth/edgeauth/internal/loginname"
	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/match"
	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// Password rules (NIST SP 800-63B, OWASP ASVS 5.0 6.2): at least 8 characters, at least
// 64 accepted, counted in Unicode code points after NFKC normalization; no composition
// rules; never truncated; and not easy to guess (below).
const (
	MinPasswordRunes = 8
	MaxPasswordRunes = 256
)

// A new password is refused when zxcvbn (Dropbox's estimator; the trustelem port, with
// its lists of the 30,000 most common passwords, English words, names and film
// dialogue) estimates that fewer than MinPasswordGuesses guesses find it, counting the
// login name and the service's names as known to the attacker (ASVS 6.2.4 and 6.2.11).
// That refuses every password of its common list and the usual changes of one (case,
// digits or a year appended, l33t, reversal), keyboard walks, repeats and dates, without
// composition rules. A million guesses is the line because guessing is online: by
// default login throttling allows 100 failures per account a day from addresses its
// owner has not signed in from (Throttle.AccountFailures), so a million take decades.
const MinPasswordGuesses = 1e6

// guessedRunes is how much of a password the estimator reads. Its work grows faster
// than the length (about 2 ms for 32 code points, 13 ms for 64, 300 ms for 256 here),
// and it runs before any throttling, so only the start is judged: a longer password is
// refused when its first 32 characters alone are easy to guess, and accepted otherwise.
const guessedRunes = 32

// PasswordPolicyError is a password refused by the policy (errors.Is ErrPasswordPolicy).
// Rule is a sentence for the person choosing the password; it never quotes it.
type PasswordPolicyError struct{ Rule string }

func (e *PasswordPolicyError) Error() string { return "auth: password refused: " + e.Rule }
func (e *PasswordPolicyError) Unwrap() error { return ErrPasswordPolicy }

// Params are argon2id parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	SaltLen int
	KeyLen  int
}

// DefaultParams are OWASP's first recommended argon2id configuration: m=19 MiB, t=2, p=1.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// weakerThanDefaults reports whether a stored hash costs a guesser less than
// DefaultParams (memory times passes), or has a shorter salt or key: the ones a login
// rehashes. A hash at least as strong, say OWASP's m=46 MiB, t=1, or one an operator
// imported with more memory, stays: the upgrade never weakens. A hash that does not
// parse is left to the verification, which refuses it.
func weakerThanDefaults(phc string) bool {
	p, salt, key, err := parsePHC(phc)
	if err != nil {
		return false
	}
	d := DefaultParams
	return uint64(p.Memory)*uint64(p.Time) < uint64(d.Memory)*uint64(d.Time) ||
		len(salt) < d.SaltLen || len(key) < d.KeyLen
}

// argon2Runs counts argon2id computations and argon2Work their cost (memory in KiB times
// passes): tests use them to show that unknown accounts cost the same work as wrong
// passwords, without measuring time.
var argon2Runs, argon2Work atomic.Int64

// normalizePassword applies NFKC (NIST SP 800-63B 5.1.1.2) so the same password typed on
// different keyboards matches.
func normalizePassword(pw string) string { return norm.NFKC.String(pw) }

// CheckPassword reports whether pw may be set as a password: its length, then how easy
// it is to guess given context, the names it must not be built from (the login name,
// the service's names or URLs; "edgeauth" is always one). The error is a
// *PasswordPolicyError.
func CheckPassword(pw string, context ...string) error {
	if !utf8.ValidString(pw) {
		return &PasswordPolicyError{"the password is not valid UTF-8"}
	}
	pw = normalizePassword(pw)
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordRunes {
		return &PasswordPolicyError{"the password must have at least " + strconv.Itoa(MinPasswordRunes) + " characters"}
	}
	if n > MaxPasswordRunes {
		return &PasswordPolicyError{"the password must have at most " + strconv.Itoa(MaxPasswordRunes) + " characters"}
	}
	if n > guessedRunes {
		pw = string([]rune(pw)[:guessedRunes])
	}
	guess := zxcvbn.PasswordStrength(pw, contextWords(context))
	if guess.Guesses >= MinPasswordGuesses {
		return nil
	}
	return &PasswordPolicyError{"the password is too easy to guess: " + whyGuessable(guess.Sequence)}
}

// whyGuessable names the weakest kind of part the estimator found.
func whyGuessable(parts []*match.Match) string {
	found := func(dictionary string) bool {
		return slices.ContainsFunc(parts, func(m *match.Match) bool { return m.DictionaryName == dictionary })
	}
	switch {
	case found("user_inputs"):
		return "it contains the login name or the service's name"
	case found("passwords"):
		return "it is a common password, or close to one"
	default:
		return "it is made of common words, names, dates, repeats or keyboard patterns"
	}
}

// contextWords splits names (login names, host names, URLs) into the lower-case words
// of at least 3 characters the estimator treats as known, "edgeauth" among them. Names
// are read after NFKC, as the password is: a login name typed in fullwidth characters
// is the same name (loginname.Key).
func contextWords(names []string) []string {
	words := []string{"edgeauth"}
	for _, name := range names {
		name = norm.NFKC.String(name)
		if u, err := url.Parse(name); err == nil && u.Host != "" {
			name = u.Hostname()
		}
		if name = strings.ToLower(name); name == "" {
			continue
		}
		words = append(words, name)
		for _, w := range strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			if utf8.RuneCountInString(w) >= 3 {
				words = append(words, w)
			}
		}
	}
	slices.Sort(words)
	return slices.Compact(words)
}

// passwordTooLong reports whether pw has more than MaxPasswordRunes code points after
// NFKC: the rule CheckPassword applies at signup, applied at login.
func passwordTooLong(pw string) bool {
	return utf8.RuneCountInString(normalizePassword(pw)) > MaxPasswordRunes
}

var b64 = base64.RawStdEncoding

// hashPassword returns the argon2id PHC string of pw with a fresh random salt:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded standard base64).
func hashPassword(pw string, p Params) string {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		panic("auth: no randomness: " + err.Error())
	}
	argon2Runs.Add(1)
	argon2Work.Add(int64(p.Memory) * int64(p.Time))
	key := argon2.IDKey([]byte(normalizePassword(pw)), salt, p.Time, p.Memory, p.Threads, uint32(p.KeyLen))
	return "$argon2id$v=" + strconv.Itoa(argon2.Version) +
		"$m=" + strconv.FormatUint(uint64(p.Memory), 10) +
		",t=" + strconv.FormatUint(uint64(p.Time), 10) +
		",p=" + strconv.FormatUint(uint64(p.Threads), 10) +
		"$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(key)
}

var errBadHash = errors.New("auth: malformed password hash")

// parsePHC parses an argon2id PHC string.
func parsePHC(s string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, errBadHash
	}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return p, nil, nil, errBadHash
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			return p, nil, nil, errBadHash
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return p, nil, nil, errBadHash
			}
			p.Threads = uint8(n)
		default:
			return p, nil, nil, errBadHash
		}
	}
	// Bounds keep a tampered hash from making a login allocate gigabytes or spin.
	if p.Memory == 0 || p.Memory > 1<<21 || p.Time == 0 || p.Time > 64 || p.Threads == 0 {
		return p, nil, nil, errBadHash
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, errBadHash
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 {
		return p, nil, nil, errBadHash
	}
	p.SaltLen, p.KeyLen = len(salt), len(key)
	return p, salt, key, nil
}

// verifyPassword reports whether pw matches the PHC hash, comparing in constant time.
func verifyPassword(pw, phc string) (bool, error) {
	p, salt, key, err := parsePHC(phc)
	if err != nil {
		return false, err
	}
	argon2Runs.Add(1)
	argon2Work.Add(int64(p.Memory) * int64(p.Time))
	got := argon2.IDKey([]byte(normalizePassword(pw)), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// normalizeEmail trims the login name and checks it: 1..254 bytes of valid UTF-8
// without spaces or control characters, as typed and as its loginname.Key (NFKC can
// turn a character into spaces). The name is kept as typed, for display; accounts are
// found and kept unique by the key (case, fullwidth forms and composed or decomposed
// accents do not tell names apart).
func normalizeEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" || len(email) > 254 {
		return "", ErrInvalidEmail
	}
	for _, s := range []string{email, loginname.Key(email)} {
		if s == "" || !isText(s) || strings.ContainsFunc(s, unicode.IsSpace) {
			return "", ErrInvalidEmail
		}
	}
	return email, nil
}

// CheckLoginName returns ErrInvalidEmail for a login name that is not text (invalid
// UTF-8, control characters, NUL included), which can name no account, nil otherwise.
// Login refuses such a name before any lookup; so may any caller that looks an account
// up by name (the edgeauth users commands do, before they connect).
func CheckLoginName(name string) error {
	if !isText(name) {
		return ErrInvalidEmail
	}
	return nil
}

// isText reports whether s is valid UTF-8 without control characters (NUL included).
// Identifiers a client sends (login names, session ids) that are not text can match
// nothing we store, and PostgreSQL refuses a NUL byte in text: they are malformed input,
// refused before any lookup.
func isText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
