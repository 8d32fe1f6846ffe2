// The tenant's website in the browser tests: a plain shop page with the widget snippet.
export function shopPage(snippet: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>ACME Shop</title>
<style>body{font-family:system-ui,sans-serif;margin:0;background:#f8fafc;color:#0f172a}
header{background:#0f172a;color:#fff;padding:18px 32px;font-size:22px;font-weight:700}
main{padding:32px;max-width:760px}.card{background:#fff;border-radius:10px;padding:20px;margin:0 0 16px;box-shadow:0 1px 3px rgba(0,0,0,.1)}</style>
</head><body><header>ACME Shop</header>
<main><div class="card"><h1>Order #1042</h1><p>Your parcel left our warehouse on Monday.</p></div>
<div class="card"><p>Questions? Chat with us: the button in the corner.</p></div></main>
${snippet}
</body></html>`;
}
