export default function Home() {
  return (
    <main>
      <h1>Home</h1>
      <a href="/dashboard">Dashboard</a>
    </main>
  );
}
