// A page that needs a second factor: the edge's route rule for /vault/ has mfa, so it
// forwards only sessions whose sign-in used one (and says so in the identity headers).
import { headers } from "next/headers";

export const dynamic = "force-dynamic";

export default async function Vault() {
  const h = await headers();
  return (
    <main>
      <h1>Vault</h1>
      <p>
        Signed in as <span id="subject">{h.get("x-edgeauth-subject")}</span> with a second factor:{" "}
        <span id="second-factor">{h.get("x-edgeauth-second-factor")}</span>.
      </p>
    </main>
  );
}
