"use client";
// Posts to the control plane's /auth/login (same origin: the edge forwards /auth/*),
// then goes back to return_to when it is a path on this site. An account with a second
// factor is answered 401 mfa_required: the form then asks for a code and posts again.
// An account that must have one and has none yet is answered 403
// mfa_enrollment_required: the page gets it a new secret (/auth/mfa/enroll), shows it
// for the authenticator app and asks for its code; confirming signs in and answers the
// recovery codes, which the page shows this once before the user goes on.
import { useState } from "react";

// safeReturnTo: return_to when it is a path on this site, read as the browser reads it:
// the URL parser drops tabs and newlines and takes a backslash for "/", so
// "/<tab>/evil.example" is "//evil.example", another site, though it does not start so.
function safeReturnTo(): string {
  const back = new URLSearchParams(window.location.search).get("return_to") ?? "";
  try {
    const to = new URL(back, window.location.origin);
    if (back.startsWith("/") && to.origin === window.location.origin) return to.pathname + to.search + to.hash;
  } catch {
    // not a URL at all
  }
  return "/dashboard";
}

// totpURI: uri when it is an otpauth://totp/ URI (the Key Uri Format authenticator apps
// read), else null. The control plane's answer becomes a link: a javascript: URI, or any
// other, must never.
function totpURI(uri: unknown): string | null {
  try {
    const u = new URL(String(uri));
    return u.protocol === "otpauth:" && u.host === "totp" && u.pathname.length > 1 ? String(uri) : null;
  } catch {
    return null;
  }
}

// A request that fails (the site unreachable, the network gone) is answered as a 503:
// refusal() says the service is unavailable and to try again, where the rejection left
// the page saying nothing.
const post = (path: string, body: unknown) =>
  fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }).catch(
    () => new Response(null, { status: 503 }),
  );

const errorCode = async (res: Response): Promise<string | undefined> => (await res.json().catch(() => ({})))?.error?.code;

// refusal says why an attempt was refused when no step of the page answers it: a wrong
// code (mfa_invalid, at sign-in or enrollment) is the code, not the password; 429
// too_many_attempts is no verdict on either: the user waits Retry-After seconds; nor is
// a 502, 503 or 504 (the edge could not reach the control plane, its database is
// down): the user tries again, the same password.
function refusal(res: Response, code: string | undefined): string {
  if (res.status === 502 || res.status === 503 || res.status === 504) return "Sign-in is unavailable right now: try again in a moment";
  if (code === "mfa_invalid") return "Wrong code: enter the one your authenticator app shows now";
  if (code !== "too_many_attempts") return "Sign-in failed";
  const minutes = Math.ceil(Number(res.headers.get("retry-after")) / 60);
  return minutes > 0 ? `Too many attempts: try again in ${minutes} minute${minutes > 1 ? "s" : ""}` : "Too many attempts: try again later";
}

export default function Login() {
  const [error, setError] = useState("");
  const [askCode, setAskCode] = useState(false);
  const [enrollment, setEnrollment] = useState<{ secret: string; uri: string } | null>(null);
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  async function submit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const credentials = { email: form.get("email"), password: form.get("password") };
    if (enrollment) return confirmEnrollment({ ...credentials, code: form.get("code") });
    const res = await post("/auth/login", { ...credentials, ...(askCode && { code: form.get("code") }) });
    if (!res.ok) {
      const code = await errorCode(res);
      if (code === "mfa_enrollment_required") return enroll(credentials);
      if (code === "mfa_required") setAskCode(true);
      return setError(code === "mfa_required" ? "Enter the code of your authenticator app" : refusal(res, code));
    }
    window.location.assign(safeReturnTo());
  }
  async function enroll(credentials: object) {
    const res = await post("/auth/mfa/enroll", credentials);
    if (!res.ok) return setError(refusal(res, await errorCode(res)));
    setEnrollment(await res.json());
    setError("This account needs a second factor: add the key to your authenticator app and enter its code");
  }
  async function confirmEnrollment(body: object) {
    const res = await post("/auth/mfa/enroll/confirm", body);
    if (!res.ok) {
      const code = await errorCode(res);
      // This secret is no longer the one to confirm (confirmed in another browser meanwhile,
      // or reset): leave the step. mfa_enabled: the account has its factor, so
      // it signs in with its code; mfa_not_pending: the next sign-in starts over.
      if (code === "mfa_enabled" || code === "mfa_not_pending") {
        setEnrollment(null);
        setAskCode(code === "mfa_enabled");
        return setError(code === "mfa_enabled" ? "This account has a second factor now: enter its code" : "Sign in again to set up the second factor");
      }
      return setError(refusal(res, code));
    }
    setRecoveryCodes((await res.json()).recovery_codes);
    setError("");
  }
  if (recoveryCodes) {
    return (
      <main>
        <h1>Signed in</h1>
        <p>Keep these recovery codes somewhere safe: each signs in once without the app, and they are not shown again.</p>
        <ul id="recovery-codes">
          {recoveryCodes.map((c) => (
            <li key={c}>{c}</li>
          ))}
        </ul>
        <button id="continue" onClick={() => window.location.assign(safeReturnTo())}>
          Continue
        </button>
      </main>
    );
  }
  const link = enrollment && totpURI(enrollment.uri);
  return (
    <main>
      <h1>Sign in</h1>
      <form onSubmit={submit}>
        <input name="email" type="email" autoComplete="username" />
        <input name="password" type="password" autoComplete="current-password" />
        <input name="code" inputMode="numeric" autoComplete="one-time-code" hidden={!askCode && !enrollment} />
        <button type="submit">Sign in</button>
      </form>
      {enrollment && (
        <p id="enroll">
          Key for your authenticator app: <code id="secret">{enrollment.secret}</code>
          {link && (
            <>
              {" "}
              (or open <a id="uri" href={link}>{link}</a>)
            </>
          )}
        </p>
      )}
      <p id="error">{error}</p>
    </main>
  );
}
