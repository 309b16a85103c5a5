"use client";

export function SignOut() {
  async function signOut() {
    await fetch("/auth/logout", { method: "POST" });
    window.location.assign("/login");
  }
  return (
    <button id="signout" onClick={signOut}>
      Sign out
    </button>
  );
}
