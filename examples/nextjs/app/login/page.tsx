"use client";
// Posts to the control plane's /auth/login (same origin: the edge forwards /auth/*),
// then goes back to return_to when it is a path on this site. An account with a second
// factor is answered 401 mfa_required: the form then asks for a code and posts again.
import { useState } from "react";

function safeReturnTo(): string {
  const back = new URLSearchParams(window.location.search).get("return_to") ?? "";
  return back.startsWith("/") && !back.startsWith("//") && !back.startsWith("/\\") ? back : "/dashboard";
}

export default function Login() {
  const [error, setError] = useState("");
  const [askCode, setAskCode] = useState(false);
  async function submit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const res = await fetch("/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: form.get("email"), password: form.get("password"), ...(askCode && { code: form.get("code") }) }),
    });
    if (!res.ok) {
      const code = (await res.json().catch(() => ({})))?.error?.code;
      if (code === "mfa_required") setAskCode(true);
      return setError(code === "mfa_required" ? "Enter the code of your authenticator app" : "Sign-in failed");
    }
    window.location.assign(safeReturnTo());
  }
  return (
    <main>
      <h1>Sign in</h1>
      <form onSubmit={submit}>
        <input name="email" type="email" autoComplete="username" />
        <input name="password" type="password" autoComplete="current-password" />
        <input name="code" inputMode="numeric" autoComplete="one-time-code" hidden={!askCode} />
        <button type="submit">Sign in</button>
      </form>
      <p id="error">{error}</p>
    </main>
  );
}
