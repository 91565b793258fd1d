export const APP_CSS = `
body { font-family: system-ui, sans-serif; margin: 0; background: #f5f6f8; color: #1b1f24; }
header { display: flex; justify-content: space-between; align-items: center; padding: 0.6rem 1.2rem; background: #1b1f24; color: #fff; }
header h1 { font-size: 1.1rem; margin: 0; }
main { padding: 1rem 1.2rem; max-width: 70rem; }
section { margin-bottom: 1.5rem; }
h2 { font-size: 1rem; border-bottom: 1px solid #ccd; padding-bottom: 0.2rem; }
.card { background: #fff; border: 1px solid #d0d4da; border-radius: 6px; padding: 0.8rem 1rem; margin: 0.6rem 0; }
.meta { color: #4a5260; font-size: 0.85rem; }
.digest { font-family: ui-monospace, monospace; font-size: 0.8rem; word-break: break-all; }
pre.diff { background: #fafbfc; border: 1px solid #e1e4e8; padding: 0.5rem; overflow-x: auto; font-size: 0.85rem; white-space: pre-wrap; }
.diff .add { background: #e6ffed; display: block; }
.diff .del { background: #ffeef0; display: block; }
.diff .same { display: block; color: #586069; }
.flag { background: #ffd33d; color: #000; border-radius: 3px; padding: 0 2px; font-weight: bold; }
.warnings { background: #fff5b1; border: 1px solid #e5c100; padding: 0.4rem 0.6rem; border-radius: 4px; }
.error { color: #b31d28; font-weight: bold; }
.ok { color: #22863a; font-weight: bold; }
button { font: inherit; padding: 0.3rem 0.8rem; margin-right: 0.4rem; border-radius: 4px; border: 1px solid #888; cursor: pointer; }
button.approve { background: #2ea44f; color: #fff; border-color: #22863a; }
button.reject { background: #fff; color: #b31d28; border-color: #b31d28; }
input { font: inherit; padding: 0.3rem; }
input.token { width: 28rem; max-width: 100%; }
table { border-collapse: collapse; font-size: 0.85rem; }
td, th { border-bottom: 1px solid #e1e4e8; padding: 0.2rem 0.5rem; text-align: left; vertical-align: top; }
`;
