// An API route behind the edge: 401/403 JSON come from the edge (apiPrefixes), so
// this only runs with a session.
import { headers } from "next/headers";

export const dynamic = "force-dynamic";

export async function GET() {
  const h = await headers();
  return Response.json({ sub: h.get("x-edgeauth-subject"), sid: h.get("x-edgeauth-session"), roles: h.get("x-edgeauth-roles") });
}
