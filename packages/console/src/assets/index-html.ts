/** The page: a shell the script fills; no inline script or style (the CSP would refuse them anyway). */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>IronClaw approvals</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header><h1>IronClaw approvals</h1><div id="who"></div></header>
<main id="app"><p>Loading…</p></main>
</body>
</html>
`;
