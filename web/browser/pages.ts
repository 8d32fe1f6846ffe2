// The tenant's website in the browser tests: a plain shop page with the widget snippet, under
// a strict Content-Security-Policy: scripts and styles only from the page's origin, network
// only to the Sealdesk server. Anything else the widget tried would be blocked and logged.
export const SHOP_CSS = `body{font-family:system-ui,sans-serif;margin:0;background:#f8fafc;color:#0f172a}
header{background:#0f172a;color:#fff;padding:18px 32px;font-size:22px;font-weight:700}
main{padding:32px;max-width:760px}.card{background:#fff;border-radius:10px;padding:20px;margin:0 0 16px;box-shadow:0 1px 3px rgba(0,0,0,.1)}`;

export function shopPage(snippet: string, hostOrigin: string, server: string, imgSrc = "blob:"): string {
  const ws = server.replace(/^http/, "ws");
  // `img-src blob:` is what the widget's image previews need (web/README.md); nothing else.
  const csp = `default-src 'none'; script-src ${hostOrigin}; style-src ${hostOrigin}; connect-src ${server} ${ws}; img-src ${imgSrc}; base-uri 'none'; form-action 'none'`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<title>ACME Shop</title><link rel="stylesheet" href="/shop.css">
</head><body><header>ACME Shop</header>
<main><div class="card"><h1>Order #1042</h1><p>Your parcel left our warehouse on Monday.</p></div>
<div class="card"><p>Questions? Chat with us: the button in the corner.</p></div></main>
${snippet}
</body></html>`;
}
