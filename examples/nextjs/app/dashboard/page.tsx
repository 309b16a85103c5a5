// A protected page: the edge let the request through and set the identity headers
// (after removing any the client sent).
import { headers } from "next/headers";
import { SignOut } from "./sign-out";

export const dynamic = "force-dynamic";

export default async function Dashboard() {
  const h = await headers();
  return (
    <main>
      <h1>Dashboard</h1>
      <p>
        Signed in as <span id="subject">{h.get("x-edgeauth-subject")}</span>, session{" "}
        <span id="session">{h.get("x-edgeauth-session")}</span>, token expires at{" "}
        <span id="expires">{h.get("x-edgeauth-expires-at")}</span>.
      </p>
      <SignOut />
    </main>
  );
}
