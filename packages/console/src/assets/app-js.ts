/** The page's script, served as /app.js. Plain ES2020 with no dependencies; it writes text nodes only, never HTML. */
export const APP_JS = String.raw`"use strict";
(function () {
  var app = document.getElementById("app");
  var who = document.getElementById("who");
  var csrf = null;
  var me = null;
  var stream = null;
  var shown = {};
  var results = {};
  var auditFilter = "";
  var lastVerification = "";
  var verifiedClass = "verified";
  var has = function (o, k) { return Object.prototype.hasOwnProperty.call(o, k); };

  // ---- DOM: text only, never HTML ----
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    var keys = Object.keys(attrs || {});
    for (var i = 0; i < keys.length; i++) {
      var k = keys[i];
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function request(method, path, body) {
    var headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && csrf !== null) headers["X-CSRF-Token"] = csrf;
    var init = { method: method, headers: headers, credentials: "same-origin", cache: "no-store" };
    if (body !== undefined) init.body = JSON.stringify(body);
    return fetch(path, init).then(function (r) {
      return r.json().then(function (j) { return { status: r.status, body: j }; });
    });
  }

  // ---- the digest, computed here from what is shown (SHA-256 over canonical JSON) ----
  // Hand-written because crypto.subtle exists only in secure contexts, and a tailnet address over http is not one.
  var K = [0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2];
  function rotr(x, n) { return (x >>> n) | (x << (32 - n)); }
  function sha256hex(bytes) {
    var h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    var len = bytes.length;
    var total = Math.ceil((len + 9) / 64) * 64;
    var m = new Uint8Array(total);
    m.set(bytes);
    m[len] = 0x80;
    var bits = len * 8;
    for (var b = 0; b < 8; b++) m[total - 1 - b] = Math.floor(bits / Math.pow(2, 8 * b)) & 0xff;
    var w = new Array(64);
    for (var off = 0; off < total; off += 64) {
      for (var t = 0; t < 16; t++) {
        w[t] = (m[off + 4 * t] << 24) | (m[off + 4 * t + 1] << 16) | (m[off + 4 * t + 2] << 8) | m[off + 4 * t + 3];
      }
      for (t = 16; t < 64; t++) {
        var s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >>> 3);
        var s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >>> 10);
        w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
      }
      var a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
      for (t = 0; t < 64; t++) {
        var S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        var ch = (e & f) ^ (~e & g);
        var t1 = (hh + S1 + ch + K[t] + w[t]) | 0;
        var S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        var maj = (a & bb) ^ (a & c) ^ (bb & c);
        var t2 = (S0 + maj) | 0;
        hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = bb; bb = a; a = (t1 + t2) | 0;
      }
      h[0] = (h[0] + a) | 0; h[1] = (h[1] + bb) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
      h[4] = (h[4] + e) | 0; h[5] = (h[5] + f) | 0; h[6] = (h[6] + g) | 0; h[7] = (h[7] + hh) | 0;
    }
    return h.map(function (x) { return ("00000000" + (x >>> 0).toString(16)).slice(-8); }).join("");
  }
  function canon(v) {
    if (v === null) return "null";
    if (typeof v === "string") return JSON.stringify(v);
    if (typeof v === "number") return String(v);
    if (typeof v === "boolean") return v ? "true" : "false";
    if (Array.isArray(v)) return "[" + v.map(canon).join(",") + "]";
    return "{" + Object.keys(v).sort().map(function (k) { return JSON.stringify(k) + ":" + canon(v[k]); }).join(",") + "}";
  }
  function digestOf(change) {
    var text = canon({ id: change.id, kind: change.kind, payload: change.payload, requester: change.requester });
    return "sha256:" + sha256hex(new TextEncoder().encode(text));
  }

  // ---- characters a reader could miss ----
  var INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Zl}\p{Zp}\p{Zs}\p{M}]/u;
  var ESCAPED = /\\u[0-9a-fA-F]{4}|\\u\{|\\x[0-9a-fA-F]{2}|%[0-9a-fA-F]{2}|&#x?[0-9a-fA-F]+;?|&[a-zA-Z]{2,8};/;
  function codeOf(ch) { return "U+" + ch.codePointAt(0).toString(16).toUpperCase().padStart(4, "0"); }
  function classify(ch) {
    if (ch === "\n" || ch === "\t" || ch === " ") return null;
    var code = ch.codePointAt(0);
    if (INVISIBLE.test(ch)) return "invisible";
    if (code > 0x7e) return "non-ASCII";
    return null;
  }
  function findings(value, path, out) {
    if (typeof value === "string") {
      for (var ch of value) {
        var kind = classify(ch);
        if (kind !== null) out.push(path + ": " + kind + " character " + codeOf(ch));
      }
      var esc = ESCAPED.exec(value);
      if (esc !== null) out.push(path + ": escape sequence " + esc[0] + " (shown as typed, not decoded)");
    } else if (Array.isArray(value)) {
      value.forEach(function (item, i) { findings(item, path + "[" + i + "]", out); });
    } else if (value !== null && typeof value === "object") {
      Object.keys(value).forEach(function (k) { findings(k, path + " key", out); findings(value[k], path + "." + k, out); });
    }
    return out;
  }
  function marked(text) {
    var frag = document.createDocumentFragment();
    var run = "";
    for (var ch of text) {
      var kind = classify(ch);
      if (kind === null) { run += ch; continue; }
      if (run !== "") { frag.appendChild(document.createTextNode(run)); run = ""; }
      var label = kind === "invisible" ? "[" + codeOf(ch) + "]" : ch + "[" + codeOf(ch) + "]";
      frag.appendChild(el("span", { class: "flag", title: kind + " character", text: label }));
    }
    if (run !== "") frag.appendChild(document.createTextNode(run));
    return frag;
  }

  // ---- a change as a diff against the agent's registry entry ----
  var FIELDS = { persona: ["persona", "persona"], enabled_tools: ["tools", "tools"], packages: ["packages", "packages"],
    wiring: ["peers", "peers"], permissions: ["grants", "grants"], mounts: ["mounts", "mounts"],
    mcp_servers: ["servers", "mcpServers"], skills: ["skills", "skills"] };
  function beforeAfter(change, registry) {
    var agent = has(registry.agents, change.agent) ? registry.agents[change.agent] : null;
    var p = change.payload;
    if (change.kind === "create_agent") return { before: agent, after: p, label: "agent " + change.agent };
    if (change.kind === "model") {
      // The registry's model entry: what a "set" makes it, or none for a "revoke".
      var next = p.action === "set" ? { provider: p.provider, model: p.model, maxOutputTokens: p.maxOutputTokens, dailyTokens: p.dailyTokens } : null;
      return { before: agent && has(agent, "model") ? agent.model : null, after: next, label: "model" };
    }
    if (change.kind === "egress") {
      var now = agent ? agent.egress : [];
      var rest = now.filter(function (e) { return !(e.host === p.host && e.port === p.port); });
      return { before: now, after: p.action === "allow" ? rest.concat([{ host: p.host, port: p.port }]) : rest, label: "egress" };
    }
    var f = has(FIELDS, change.kind) ? FIELDS[change.kind] : null;
    if (f === null) return { before: null, after: p, label: change.kind };
    return { before: agent && has(agent, f[1]) ? agent[f[1]] : null, after: has(p, f[0]) ? p[f[0]] : null, label: f[1] };
  }
  function lines(v) { return v === null || v === undefined ? [] : JSON.stringify(v, null, 2).split("\n"); }
  function diffLines(a, b) {
    if (a.length * b.length > 4000000) return a.map(function (l) { return ["-", l]; }).concat(b.map(function (l) { return ["+", l]; }));
    var n = a.length, m = b.length, i, j;
    var lcs = [];
    for (i = 0; i <= n; i++) lcs.push(new Uint32Array(m + 1));
    for (i = n - 1; i >= 0; i--) for (j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    var out = [];
    i = 0; j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[i] === b[j]) { out.push([" ", a[i]]); i++; j++; }
      else if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) { out.push(["+", b[j]]); j++; }
      else { out.push(["-", a[i]]); i++; }
    }
    return out;
  }
  function diffView(change, registry) {
    var ba = beforeAfter(change, registry);
    var pre = el("pre", { class: "diff" });
    diffLines(lines(ba.before), lines(ba.after)).forEach(function (d) {
      var span = el("span", { class: d[0] === "+" ? "add" : d[0] === "-" ? "del" : "same" }, [d[0] + " "]);
      span.appendChild(marked(d[1]));
      pre.appendChild(span);
    });
    return el("div", {}, [el("div", { class: "meta", text: "what changes in " + ba.label + " (- now, + after approval):" }), pre]);
  }

  // A package approved without provenance (allowUnattested) is said in capitals, as changes show says it.
  function unattestedPackages(change) {
    var list = change.kind === "packages" && change.payload !== null && typeof change.payload === "object" &&
      has(change.payload, "packages") ? change.payload.packages : null;
    if (!Array.isArray(list)) return [];
    return list.filter(function (p) { return p !== null && typeof p === "object" && p.allowUnattested === true; })
      .map(function (p) { return String(p.name) + "@" + String(p.version); });
  }

  // ---- views ----
  function changeCard(change, registry) {
    shown[change.id] = change;
    var computed = digestOf(change);
    var card = el("article", { class: "card", "data-change": change.id });
    card.appendChild(el("h3", {}, [change.id + " · " + change.kind + " · agent ", marked(change.agent)]));
    card.appendChild(el("div", { class: "meta" }, ["requested by ", el("strong", { text: change.requester }),
      " (" + change.requesterRole + ") at " + change.submittedAt + "; expires " + change.expiresAt]));
    card.appendChild(el("div", { class: "meta", text: "verifiers passed: " + (change.verifiers.length > 0 ? change.verifiers.join(", ") : "none recorded") }));
    var flags = findings(change.payload, "payload", []);
    if (flags.length > 0) {
      card.appendChild(el("div", { class: "warnings", role: "note" }, [el("strong", { text: "Look closely: " }),
        el("ul", {}, flags.slice(0, 50).map(function (f) { return el("li", { text: f }); }))]));
    }
    var unattested = unattestedPackages(change);
    if (unattested.length > 0) {
      card.appendChild(el("div", { class: "warnings unattested", role: "note" }, [el("strong", { text: "UNATTESTED: no provenance" }),
        el("ul", {}, unattested.map(function (label) { var li = el("li"); li.appendChild(marked(label)); return li; }))]));
    }
    (change.skills || []).forEach(function (s) {
      var items = [el("li", {}, ["skill ", marked(s.name + " " + s.version), ": ", marked(s.description === null ? "(not verified)" : s.description)]),
        el("li", { text: "needs tools: " + (s.tools.length > 0 ? s.tools.join(", ") : "none") })];
      if (s.missingTools.length > 0) {
        items.push(el("li", { class: "missing-tools", text: "NOT ENABLED for this agent: " + s.missingTools.join(", ") + ". A skill grants nothing; each tool needs its own change." }));
      }
      card.appendChild(el("div", { class: s.missingTools.length > 0 ? "warnings skill" : "meta skill", role: "note" }, [el("ul", {}, items)]));
    });
    card.appendChild(diffView(change, registry));
    card.appendChild(el("div", { class: "digest" }, ["digest of what is shown: ", el("code", { class: "shown-digest", text: computed })]));
    if (computed !== change.digest) {
      card.appendChild(el("div", { class: "error", text: "The gateway names digest " + change.digest + ": what is shown is not what was submitted. Approving will be refused." }));
    }
    var result = el("div", { class: "result", role: "status" });
    if (has(results, change.id)) {
      result.className = "result " + (results[change.id].ok ? "ok" : "error");
      result.textContent = results[change.id].text;
    }
    if (me.role === "operator" && change.state === "pending") {
      var approve = el("button", { class: "approve", type: "button", text: "Approve" });
      approve.addEventListener("click", function () { decide(change.id, "approve", { digest: digestOf(shown[change.id]) }); });
      var reason = el("input", { class: "reason", type: "text", placeholder: "why reject (required)", maxlength: "1024", "aria-label": "reason for rejecting " + change.id });
      var reject = el("button", { class: "reject", type: "button", text: "Reject" });
      reject.addEventListener("click", function () {
        if (reason.value.trim() === "") { result.className = "result error"; result.textContent = "Say why you reject it first."; reason.focus(); return; }
        decide(change.id, "reject", { reason: reason.value });
      });
      card.appendChild(el("div", { class: "actions" }, [approve, reason, reject]));
    }
    card.appendChild(result);
    return card;
  }
  function decide(id, action, body) {
    request("POST", "/api/v1/changes/" + id + "/" + action, body).then(function (r) {
      results[id] = r.status === 200
        ? { ok: true, text: id + " " + r.body.change.state }
        : { ok: false, text: "Refused (" + (r.body.error ? r.body.error.code + "): " + r.body.error.message : r.status + ")") };
      if (r.status === 401) return signInView();
      return load();
    });
  }
  function table(headings, rows) {
    return el("table", {}, [el("thead", {}, [el("tr", {}, headings.map(function (h) { return el("th", { text: h }); }))]),
      el("tbody", {}, rows.map(function (row) { return el("tr", {}, row.map(function (c) { var td = el("td"); td.appendChild(marked(String(c))); return td; })); }))]);
  }
  function render(view) {
    clear(app);
    shown = {};
    var pending = el("section", { id: "pending" }, [el("h2", { text: "Held changes (" + view.pending.length + ")" })]);
    if (view.pending.length === 0) pending.appendChild(el("p", { text: "Nothing waits for a decision." }));
    view.pending.forEach(function (c) { pending.appendChild(changeCard(c, view.registry)); });
    Object.keys(results).forEach(function (id) {
      if (has(shown, id)) return;
      pending.appendChild(el("p", { class: "result " + (results[id].ok ? "ok" : "error"), "data-result": id, role: "status", text: results[id].text }));
    });
    if (me.role !== "operator") pending.appendChild(el("p", { class: "meta", text: "Signed in as a viewer: you see everything and can decide nothing." }));
    app.appendChild(pending);
    var names = Object.keys(view.registry.agents);
    var agents = el("section", { id: "agents" }, [el("h2", { text: "Agents (" + names.length + ")" })]);
    names.forEach(function (n) {
      agents.appendChild(agentCard(n, view.registry.agents[n], has(view.messages, n) ? view.messages[n] : [], has(view.sandboxes, n) ? view.sandboxes[n] : "unknown"));
    });
    app.appendChild(agents);
    app.appendChild(el("section", { id: "decided" }, [el("h2", { text: "Recent decisions" }),
      table(["change", "kind", "agent", "state", "by", "reason"], view.decided.map(function (c) {
        return [c.id, c.kind, c.agent, c.state, c.decidedBy || "-", c.reason || c.applyError || ""];
      }))]));
    var filter = el("input", { class: "audit-filter", type: "search", placeholder: "filter by type, change or principal", "aria-label": "filter the audit log" });
    filter.value = auditFilter;
    var auditRows = view.audit.map(function (r) { return [r.seq, r.time, r.type, r.id || "", r.by || r.requester || r.from || ""]; });
    var holder = el("div");
    function showAudit() {
      auditFilter = filter.value;
      clear(holder);
      holder.appendChild(table(["seq", "time", "type", "change", "by"], auditRows.filter(function (row) {
        return auditFilter === "" || row.slice(2).join(" ").indexOf(auditFilter) >= 0;
      })));
    }
    filter.addEventListener("input", showAudit);
    showAudit();
    var cp = view.checkpoint;
    var verify = el("button", { type: "button", class: "verify", text: "Verify the log" });
    var verified = el("span", { class: verifiedClass, role: "status", text: lastVerification });
    verify.addEventListener("click", function () {
      verified.textContent = "verifying…";
      request("GET", "/api/audit/verify").then(function (r) {
        var v = r.body.verification;
        lastVerification = r.status !== 200 ? "could not verify (" + r.status + ")"
          : v.ok ? "✓ " + v.records + " records, hash chain intact, head #" + v.head.seq + "; " + v.checkpointsChecked + " signed checkpoints agree"
          : "✗ " + v.failure.code + ": " + v.failure.message;
        verifiedClass = "verified " + (r.status === 200 && v.ok ? "ok" : "error");
        // The section may have been drawn again meanwhile (live updates): write to the one shown now.
        var shownNow = app.querySelector(".verified");
        if (shownNow !== null) { shownNow.className = verifiedClass; shownNow.textContent = lastVerification; }
      });
    });
    app.appendChild(el("section", { id: "audit" }, [el("h2", { text: "Audit log (head #" + view.head.seq + ")" }),
      el("p", { class: "meta checkpoint", text: cp ? "last signed checkpoint: #" + cp.seq + " at " + cp.time + " (key " + cp.keyId + ")" : "no signed checkpoint yet" }),
      el("p", {}, [verify, verified]),
      view.auditError ? el("p", { class: "error audit-error", role: "alert", text: "The log cannot be read back: " + view.auditError.code + ": " + view.auditError.message }) : null,
      filter, holder]));
  }
  function agentCard(name, agent, messages, sandbox) {
    var fields = ["persona", "tools", "packages", "peers", "grants", "mounts", "egress", "mcpServers", "skills", "model"];
    var card = el("article", { class: "card", "data-agent": name }, [el("h3", {}, [marked(name)]),
      el("div", { class: "meta sandbox", text: "sandbox: " + sandbox }),
      table(["field", "value"], fields.map(function (f) { return [f, JSON.stringify(has(agent, f) ? agent[f] : null)]; }))]);
    var list = el("ol", { class: "messages" });
    messages.forEach(function (m) {
      var li = el("li", { "data-seq": String(m.seq) }, [m.time + " " + m.from + (m.direction === "in" ? " → " : " ← ") + ": "]);
      li.appendChild(marked(m.text));
      list.appendChild(li);
    });
    card.appendChild(el("div", { class: "meta", text: messages.length === 0 ? "no messages" : "messages (newest last):" }));
    card.appendChild(list);
    if (me.role === "operator") {
      var input = el("input", { class: "chat", type: "text", maxlength: "4096", placeholder: "message to " + name, "aria-label": "message to " + name });
      var send = el("button", { class: "send", type: "button", text: "Send" });
      var status = el("span", { class: "meta", role: "status" });
      send.addEventListener("click", function () {
        if (input.value.trim() === "") return;
        request("POST", "/api/v1/agents/" + encodeURIComponent(name) + "/messages", { text: input.value }).then(function (r) {
          if (r.status === 201) { input.value = ""; status.textContent = "sent"; return load(); }
          status.textContent = "Refused (" + (r.body.error ? r.body.error.code + "): " + r.body.error.message : r.status + ")");
        });
      });
      card.appendChild(el("div", { class: "actions" }, [input, send, status]));
    }
    return card;
  }
  function load() {
    return request("GET", "/api/view").then(function (r) {
      if (r.status === 401) return signInView();
      if (r.status !== 200) { clear(app); app.appendChild(el("p", { class: "error", text: r.body.error.message })); return; }
      var typing = document.activeElement && document.activeElement.classList.contains("reason");
      var chatting = document.activeElement && document.activeElement.classList.contains("chat") ? document.activeElement.closest("article").getAttribute("data-agent") : null;
      var drafts = {};
      Array.prototype.forEach.call(app.querySelectorAll("article[data-agent] input.chat"), function (input) {
        drafts[input.closest("article").getAttribute("data-agent")] = input.value;
      });
      var reasons = {};
      Array.prototype.forEach.call(app.querySelectorAll("article[data-change] input.reason"), function (input) {
        reasons[input.closest("article").getAttribute("data-change")] = input.value;
      });
      render(r.body);
      Array.prototype.forEach.call(app.querySelectorAll("article[data-change] input.reason"), function (input) {
        var id = input.closest("article").getAttribute("data-change");
        if (has(reasons, id)) input.value = reasons[id];
        if (typing && has(reasons, id) && reasons[id] !== "") input.focus();
      });
      Array.prototype.forEach.call(app.querySelectorAll("article[data-agent] input.chat"), function (input) {
        var name = input.closest("article").getAttribute("data-agent");
        if (has(drafts, name)) input.value = drafts[name];
        if (name === chatting) input.focus();
      });
      app.setAttribute("data-head", String(r.body.head.seq));
    });
  }
  function signedIn(body) {
    csrf = body.csrf;
    me = body.principal;
    clear(who);
    var out = el("button", { type: "button", id: "sign-out", text: "Sign out" });
    out.addEventListener("click", function () {
      request("POST", "/session/sign-out", {}).then(function () { signInView(); });
    });
    who.appendChild(el("span", { text: me.id + " (" + me.role + ") " }));
    who.appendChild(out);
    if (stream !== null) stream.close();
    stream = new EventSource("/events");
    stream.addEventListener("head", function () { load(); });
    stream.addEventListener("signed-out", function () { signInView(); });
    return load();
  }
  function signInView() {
    if (stream !== null) { stream.close(); stream = null; }
    csrf = null;
    me = null;
    clear(who);
    clear(app);
    var input = el("input", { class: "token", type: "password", id: "token", autocomplete: "off", "aria-label": "operator or viewer token" });
    var message = el("p", { class: "error", role: "alert" });
    var form = el("form", { id: "sign-in" }, [el("p", { text: "Paste the operator or viewer token from <state>/tokens. It is exchanged once for a session cookie and not kept by this page." }), input, el("button", { type: "submit", text: "Sign in" }), message]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var token = input.value;
      input.value = "";
      request("POST", "/session", { token: token }).then(function (r) {
        if (r.status === 200) return signedIn(r.body);
        message.textContent = r.body.error ? r.body.error.message : "sign-in failed (" + r.status + ")";
      });
    });
    app.appendChild(form);
    input.focus();
  }
  request("GET", "/session").then(function (r) { return r.body.principal ? signedIn(r.body) : signInView(); });
})();
`;
