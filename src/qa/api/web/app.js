// The `qa` page: ask the documents, follow each citation to its passage and document.
// No build step, no dependencies. Every piece of server data reaches the DOM through
// textContent or createTextNode, never innerHTML, so document text always renders as text.
"use strict";

(function () {
  const KEY_STORAGE = "qa.apiKey";
  const EXCERPT_CHARS = 320;

  const $ = (id) => document.getElementById(id);
  const els = {
    form: $("ask-form"),
    question: $("question"),
    button: $("ask-button"),
    status: $("status"),
    error: $("error"),
    views: {
      answer: $("view-answer"),
      passage: $("view-passage"),
      document: $("view-document"),
      documents: $("view-documents"),
      fields: $("view-fields"),
    },
    fieldsBody: $("fields-body"),
    fieldsCsv: $("fields-csv"),
    fieldsDetail: $("fields-detail"),
    fieldsDetailHeading: $("fields-detail-heading"),
    fieldsDetailBody: $("fields-detail-body"),
    answerQuestion: $("answer-question"),
    answerBody: $("answer-body"),
    passageHeading: $("passage-heading"),
    passageBody: $("passage-body"),
    passageBack: $("passage-back"),
    documentHeading: $("document-heading"),
    documentBody: $("document-body"),
    documentBack: $("document-back"),
    documentsBody: $("documents-body"),
    keyDialog: $("key-dialog"),
    keyForm: $("key-form"),
    keyInput: $("api-key"),
    keyError: $("key-error"),
    keyCancel: $("key-cancel"),
  };

  const state = {
    answer: null, // the last Answer
    quotes: new Map(), // passage id -> quoted sentence(s) of the last answer
    asking: false,
    renderToken: 0, // drops the result of a navigation overtaken by a newer one
    currentHash: "",
    previousHash: "", // where the document view's back link returns to
  };

  // ---------------------------------------------------------------- DOM helpers

  /** Create an element; `text` is always set as textContent (escaped by the browser). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = String(value);
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function clear(node) {
    node.replaceChildren();
  }

  function excerpt(text, limit) {
    const flat = String(text).replace(/\s+/g, " ").trim();
    return flat.length > limit ? flat.slice(0, limit).replace(/\s+\S*$/, "") + " …" : flat;
  }

  function plural(n, one, many) {
    return `${n} ${n === 1 ? one : many}`;
  }

  // -------------------------------------------------------------- status, errors

  function setStatus(text) {
    els.status.textContent = text;
  }

  function showError(err) {
    const message = err && err.message ? err.message : String(err);
    clear(els.error);
    els.error.append(el("strong", { text: "Something went wrong: " }), message);
    if (err && typeof err.detail === "string" && err.detail && err.detail !== message) {
      els.error.append(el("span", { className: "detail", text: err.detail }));
    }
    els.error.hidden = false;
    setStatus("");
  }

  function clearError() {
    els.error.hidden = true;
    clear(els.error);
  }

  // ------------------------------------------------------------------ API access

  class ApiError extends Error {
    constructor(message, { status = 0, code = "error", detail = null } = {}) {
      super(message);
      this.status = status;
      this.code = code;
      this.detail = detail;
    }
  }

  function storedKey() {
    try {
      return sessionStorage.getItem(KEY_STORAGE);
    } catch (_) {
      return null; // storage disabled: the key lives only in memory below
    }
  }

  let memoryKey = null;
  function currentKey() {
    return storedKey() || memoryKey;
  }

  function saveKey(key) {
    memoryKey = key;
    try {
      if (key) sessionStorage.setItem(KEY_STORAGE, key);
      else sessionStorage.removeItem(KEY_STORAGE);
    } catch (_) {
      /* memoryKey still holds it */
    }
  }

  let keyPrompt = null; // one dialog shared by concurrent requests that got a 401

  /** Ask for the API key in a modal form; resolves to the key, or null if cancelled. */
  function promptForKey(rejected) {
    if (keyPrompt) return keyPrompt;
    keyPrompt = new Promise((resolve) => {
      const dialog = els.keyDialog;
      els.keyError.hidden = !rejected;
      els.keyError.textContent = rejected ? "That key was not accepted. Check it and try again." : "";
      els.keyInput.value = "";
      dialog.returnValue = "";
      const onClose = () => {
        dialog.removeEventListener("close", onClose);
        const key = els.keyInput.value.trim();
        els.keyInput.value = "";
        keyPrompt = null;
        resolve(dialog.returnValue === "ok" && key ? key : null);
      };
      dialog.addEventListener("close", onClose);
      setStatus("The server needs an API key.");
      dialog.showModal();
      els.keyInput.focus();
    });
    return keyPrompt;
  }

  async function readError(response) {
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      /* not JSON: fall back to the HTTP status below */
    }
    const error = body && typeof body === "object" ? body.error : null;
    if (error && typeof error.message === "string" && error.message) {
      return new ApiError(error.message, {
        status: response.status,
        code: error.code || "error",
        detail: error.detail,
      });
    }
    const reason = response.statusText ? ` (${response.statusText})` : "";
    return new ApiError(`The server answered with HTTP ${response.status}${reason}.`, {
      status: response.status,
    });
  }

  /** Call the JSON API at `path`; prompts for the API key on a 401 and retries. */
  async function api(path, { method = "GET", body, as = "json" } = {}) {
    for (;;) {
      const headers = { Accept: "application/json" };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const key = currentKey();
      if (key) headers.Authorization = `Bearer ${key}`;
      let response;
      try {
        response = await fetch(path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          cache: "no-store",
        });
      } catch (_) {
        throw new ApiError(
          "Could not reach the server. Check that it is running and that you are online, then try again.",
          { code: "network_error" },
        );
      }
      if (response.status === 401) {
        const newKey = await promptForKey(Boolean(key));
        if (!newKey) {
          saveKey(null);
          throw new ApiError("This server needs an API key. Ask again to enter it.", {
            status: 401,
            code: "unauthorized",
          });
        }
        saveKey(newKey);
        continue;
      }
      if (!response.ok) throw await readError(response);
      if (as === "text") return await response.text();
      try {
        return await response.json();
      } catch (_) {
        throw new ApiError("The server sent a reply this page could not read.", {
          status: response.status,
        });
      }
    }
  }

  // ---------------------------------------------------------------------- views

  function showView(name) {
    for (const [key, view] of Object.entries(els.views)) view.hidden = key !== name;
    for (const link of document.querySelectorAll("nav [data-nav]")) {
      const tab = name === "documents" || name === "fields" ? name : "ask";
      if (link.dataset.nav === tab) {
        link.setAttribute("aria-current", "page");
      } else {
        link.removeAttribute("aria-current");
      }
    }
  }

  function focusHeading(heading) {
    heading.focus({ preventScroll: true });
  }

  function metaLine(parts) {
    const p = el("p", { className: "meta" });
    parts.filter(Boolean).forEach((part, i) => {
      if (i) p.append(el("span", { className: "sep", "aria-hidden": "true", text: " · " }));
      p.append(part);
    });
    return p;
  }

  function pageLabel(page) {
    return page === null || page === undefined ? null : `page ${page}`;
  }

  function passageHref(passageId) {
    return `#/passage/${encodeURIComponent(passageId)}`;
  }

  function documentHref(documentId, start, end) {
    const base = `#/document/${encodeURIComponent(documentId)}`;
    return Number.isInteger(start) && Number.isInteger(end) ? `${base}/${start}-${end}` : base;
  }

  /** Append `text` to `parent`, turning each `[n]` marker with a citation into a link. */
  function appendWithMarkers(parent, text, citations) {
    const byNumber = new Map(citations.map((c) => [c.n, c]));
    const pattern = /\[(\d+)\]/g;
    let last = 0;
    let match;
    while ((match = pattern.exec(text)) !== null) {
      const citation = byNumber.get(Number(match[1]));
      if (!citation) continue;
      if (match.index > last) parent.append(text.slice(last, match.index));
      const page = pageLabel(citation.page);
      parent.append(
        el("a", {
          className: "cite",
          href: passageHref(citation.passage_id),
          "aria-label": `[${citation.n}] source: ${citation.title}${page ? `, ${page}` : ""}`,
          "data-n": citation.n,
          text: `[${citation.n}]`,
        }),
      );
      last = match.index + match[0].length;
    }
    if (last < text.length) parent.append(text.slice(last));
  }

  function renderSources(citations) {
    const list = el("ol", { className: "sources" });
    for (const c of citations) {
      const item = el("li", { id: `source-${c.n}`, value: c.n });
      item.append(
        el(
          "p",
          { className: "source-title" },
          el("a", { href: passageHref(c.passage_id), text: c.title }),
        ),
        metaLine([pageLabel(c.page), el("span", { className: "path", text: c.source })]),
        el("blockquote", { className: "quote", text: c.quote }),
      );
      list.append(item);
    }
    return list;
  }

  function renderSuggestions(hits) {
    if (!hits.length) return el("p", { text: "No passage came close to the question." });
    const list = el("ol", { className: "sources suggestions" });
    for (const hit of hits) {
      list.append(
        el(
          "li",
          {},
          el(
            "p",
            { className: "source-title" },
            el("a", { href: passageHref(hit.passage_id), text: hit.title }),
          ),
          metaLine([pageLabel(hit.page), el("span", { className: "path", text: hit.source })]),
          el("p", { className: "excerpt", text: excerpt(hit.text, EXCERPT_CHARS) }),
        ),
      );
    }
    return list;
  }

  // Headlines for the `reason` of an abstention (see the README's answer reasons).
  const REASON_TITLES = {
    no_evidence: "Not covered by the documents",
    unsupported_detail: "Not covered by the documents: the detail asked for is missing",
    language: "Question not in the model's language",
    empty_corpus: "No documents are indexed",
  };

  function renderAnswer(answer) {
    clear(els.answerBody);
    els.answerQuestion.textContent = answer.question;
    const citations = answer.citations || [];
    const suggestions = answer.suggestions || [];
    if (answer.answered) {
      const text = el("p", { className: "answer-text" });
      appendWithMarkers(text, answer.answer || "", citations);
      els.answerBody.append(text);
      if ((answer.uncovered || []).length) {
        els.answerBody.append(
          el("p", {
            className: "uncovered",
            text: `Not covered by the documents: ${answer.uncovered.join("; ")}.`,
          }),
        );
      }
      if (answer.caution) {
        els.answerBody.append(el("p", { className: "caution", text: `Caution: ${answer.caution}` }));
      }
      if (citations.length) {
        els.answerBody.append(el("h3", { text: "Sources" }), renderSources(citations));
      }
    } else {
      const box = el("div", { className: "not-covered" });
      box.dataset.reason = answer.reason || "";
      box.append(el("p", { className: "not-covered-title", text: REASON_TITLES[answer.reason] || REASON_TITLES.no_evidence }));
      box.append(el("p", { className: "not-covered-message", text: answer.message || answer.answer || "" }));
      if (suggestions.length) {
        box.append(el("p", { text: "These passages came closest:" }));
        els.answerBody.append(box, el("h3", { text: "Closest passages" }), renderSuggestions(suggestions));
      } else {
        els.answerBody.append(box);
      }
    }
  }

  // A regex matching `phrase` with any run of whitespace where it has some.
  function looseRegExp(phrase) {
    const words = phrase.trim().split(/\s+/).filter(Boolean);
    if (!words.length) return null;
    return new RegExp(words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("\\s+"));
  }

  /** Spans of `text` holding the quoted sentence(s), in order; [] when none is found. */
  function quoteSpans(text, quote) {
    if (!quote || !quote.trim()) return [];
    const exact = text.indexOf(quote);
    if (exact >= 0) return [[exact, exact + quote.length]];
    // A quote of several sentences may skip text between them ("…"), and its
    // whitespace may differ from the passage's: match each sentence on its own.
    const spans = [];
    let from = 0;
    for (const sentence of quote.split(/\s*(?:…|\.\.\.)\s*|(?<=[.!?])\s+/)) {
      const pattern = looseRegExp(sentence);
      if (!pattern) continue;
      const match = pattern.exec(text.slice(from));
      if (!match) continue;
      const start = from + match.index;
      spans.push([start, start + match[0].length]);
      from = start + match[0].length;
    }
    return spans;
  }

  /** Append `text` to `parent` with each [start, end) span wrapped in <mark>; returns the first. */
  function appendHighlighted(parent, text, spans, markAttrs) {
    let last = 0;
    let first = null;
    for (const [start, end] of spans) {
      const mark = el("mark", markAttrs, text.slice(start, end));
      parent.append(text.slice(last, start), mark);
      first = first || mark;
      last = end;
    }
    parent.append(text.slice(last));
    return first;
  }

  async function showPassage(passageId, token) {
    showView("passage");
    els.views.passage.setAttribute("aria-busy", "true");
    setStatus("Loading the passage…");
    try {
      const detail = await api(`passages/${encodeURIComponent(passageId)}`);
      if (token !== state.renderToken) return;
      const p = detail.passage;
      const quote = state.quotes.get(p.id) || null;
      els.passageHeading.textContent = p.title;
      els.passageBack.textContent = state.answer ? "← Back to the answer" : "← Back to the question box";
      clear(els.passageBody);
      const headings = (p.headings || []).join(" › ");
      els.passageBody.append(
        metaLine([
          pageLabel(p.page),
          el("span", { className: "path", text: p.source }),
          headings ? el("span", { text: headings }) : null,
        ]),
      );
      const body = el("blockquote", { className: "passage-text" });
      const mark = appendHighlighted(body, p.text, quoteSpans(p.text, quote), {
        className: "quote",
      });
      els.passageBody.append(body);
      if (mark) {
        els.passageBody.append(
          el("p", { className: "hint", text: "The highlighted sentence is the one the answer quotes." }),
        );
      }
      const actions = el("p", { className: "actions" });
      actions.append(
        el("a", {
          className: "button primary",
          href: documentHref(p.document_id, p.start, p.end),
          id: "open-document",
          text: "Open document",
        }),
      );
      if (detail.previous_id) {
        actions.append(el("a", { className: "button", href: passageHref(detail.previous_id), text: "← Previous passage" }));
      }
      if (detail.next_id) {
        actions.append(el("a", { className: "button", href: passageHref(detail.next_id), text: "Next passage →" }));
      }
      els.passageBody.append(actions);
      setStatus(`Passage from ${p.title}${mark ? ", quoted sentence highlighted" : ""}.`);
      focusHeading(els.passageHeading);
      window.scrollTo(0, 0);
    } finally {
      els.views.passage.removeAttribute("aria-busy");
    }
  }

  async function showDocument(documentId, span, token) {
    showView("document");
    els.views.document.setAttribute("aria-busy", "true");
    setStatus("Loading the document…");
    try {
      const doc = await api(`documents/${encodeURIComponent(documentId)}`);
      if (token !== state.renderToken) return;
      els.documentHeading.textContent = doc.title;
      clear(els.documentBody);
      els.documentBody.append(
        metaLine([
          el("span", { className: "path", text: doc.source }),
          doc.format ? el("span", { text: doc.format.toUpperCase() }) : null,
          doc.pages ? el("span", { text: plural(doc.pages, "page", "pages") }) : null,
          el("span", { text: plural(doc.passages, "passage", "passages") }),
        ]),
      );
      const text = String(doc.text || "");
      const container = el("div", { className: "doc-text", id: "document-text" });
      let mark = null;
      if (span && span[0] < span[1] && span[0] >= 0 && span[1] <= text.length) {
        mark = el("mark", { className: "passage", id: "document-passage", tabindex: "-1" });
        const passageText = text.slice(span[0], span[1]);
        const quote = quoteForSpan(documentId, span);
        appendHighlighted(mark, passageText, quoteSpans(passageText, quote), { className: "quote" });
        container.append(text.slice(0, span[0]), mark, text.slice(span[1]));
      } else {
        container.append(text);
      }
      els.documentBody.append(container);
      const fromPassage = /^#\/passage\//.test(state.previousHash);
      els.documentBack.textContent = fromPassage ? "← Back to the passage" : "← Back to the documents";
      els.documentBack.setAttribute("href", fromPassage ? state.previousHash : "#/documents");
      focusHeading(els.documentHeading);
      if (mark) {
        mark.scrollIntoView({ block: "center" });
        setStatus(`${doc.title}: the cited passage is highlighted.`);
      } else {
        window.scrollTo(0, 0);
        setStatus(`${doc.title}.`);
      }
    } finally {
      els.views.document.removeAttribute("aria-busy");
    }
  }

  async function showDocuments(token) {
    showView("documents");
    els.views.documents.setAttribute("aria-busy", "true");
    setStatus("Loading the documents…");
    try {
      const docs = await api("documents");
      if (token !== state.renderToken) return;
      clear(els.documentsBody);
      if (!docs.length) {
        els.documentsBody.append(
          el("p", { text: "No documents are indexed yet. Add files to the corpus and run qa ingest." }),
        );
      } else {
        els.documentsBody.append(el("p", { className: "meta", text: plural(docs.length, "document", "documents") }));
        const list = el("ul", { className: "doc-list" });
        for (const d of docs) {
          const facts = el("dl", { className: "facts" });
          const fact = (label, value) => facts.append(el("dt", { text: label }), el("dd", { text: value }));
          fact("Source", d.source);
          fact("Passages", String(d.passages));
          if (d.pages) fact("Pages", String(d.pages));
          fact("Format", d.format);
          list.append(
            el(
              "li",
              {},
              el("h3", {}, el("a", { href: documentHref(d.id), text: d.title })),
              facts,
            ),
          );
        }
        els.documentsBody.append(list);
      }
      setStatus(`${plural(docs.length, "document", "documents")} indexed.`);
      focusHeading($("documents-heading"));
    } finally {
      els.views.documents.removeAttribute("aria-busy");
    }
  }

  // ---------------------------------------------------------------- field map

  async function showFields(token) {
    showView("fields");
    els.views.fields.setAttribute("aria-busy", "true");
    setStatus("Loading the field map…");
    try {
      const map = await api("fields");
      if (token !== state.renderToken) return;
      state.fieldMap = map;
      clear(els.fieldsBody);
      els.fieldsDetail.hidden = true;
      if (!map.cells.length) {
        els.fieldsBody.append(el("p", { text: "No sentence in the documents places an actor in a field." }));
        setStatus("The field map is empty.");
        return;
      }
      els.fieldsBody.append(renderFieldMatrix(map));
      setStatus(`Field map: ${plural(map.cells.length, "cell", "cells")}.`);
      focusHeading($("fields-heading"));
    } finally {
      els.views.fields.removeAttribute("aria-busy");
    }
  }

  function renderFieldMatrix(map) {
    const names = new Map(map.actors.map((a) => [a.id, a.name]));
    const cells = new Map(map.cells.map((c) => [`${c.actor}\u0000${c.field}`, c]));
    const most = Math.max(...map.cells.map((c) => c.citations.length));
    const rows = [...new Set(map.cells.map((c) => c.actor))];
    const head = el("tr", {}, el("th", { scope: "col", text: "Actor" }));
    for (const f of map.fields) head.append(el("th", { scope: "col", title: f.description, text: f.label }));
    const body = el("tbody");
    for (const actorId of rows) {
      const tr = el("tr", { "data-actor": actorId }, el("th", { scope: "row", text: names.get(actorId) || actorId }));
      for (const f of map.fields) {
        const cell = cells.get(`${actorId}\u0000${f.id}`);
        if (!cell) {
          tr.append(el("td", { className: "field-empty", "data-field": f.id }));
          continue;
        }
        const n = cell.citations.length;
        const button = el("button", {
          type: "button",
          className: n / most > 0.5 ? "field-cell strong" : "field-cell",
          "data-actor": actorId,
          "data-field": f.id,
          "data-count": String(n),
          "aria-label": `${names.get(actorId) || actorId}, ${f.label}: ${plural(n, "sentence", "sentences")}`,
          style: `--shade: ${Math.round(25 + (75 * n) / most)}%`,
          text: String(n),
        });
        button.addEventListener("click", () => showFieldCell(map, cell));
        tr.append(el("td", { "data-field": f.id }, button));
      }
      body.append(tr);
    }
    return el("div", { className: "table-scroll" }, el("table", { className: "field-matrix" }, el("thead", {}, head), body));
  }

  function showFieldCell(map, cell) {
    const names = new Map(map.actors.map((a) => [a.id, a.name]));
    const field = map.fields.find((f) => f.id === cell.field);
    clear(els.fieldsDetailBody);
    els.fieldsDetailHeading.textContent = `${names.get(cell.actor) || cell.actor} — ${field ? field.label : cell.field}`;
    if (cell.partners.length) {
      els.fieldsDetailBody.append(
        el("p", { className: "meta", text: `With: ${cell.partners.map((p) => names.get(p) || p).join(", ")}` }),
      );
    }
    const list = el("ol", { className: "field-quotes" });
    for (const c of cell.citations) {
      list.append(
        el(
          "li",
          { "data-n": String(c.n) },
          el("blockquote", { text: c.quote }),
          metaLine([el("a", { href: passageHref(c.passage_id), text: c.title }), pageLabel(c.page)]),
        ),
      );
    }
    els.fieldsDetailBody.append(list);
    els.fieldsDetail.hidden = false;
    focusHeading(els.fieldsDetailHeading);
    setStatus(`${plural(cell.citations.length, "sentence", "sentences")} for this cell.`);
  }

  async function downloadFieldsCsv() {
    clearError();
    try {
      const csv = await api("fields?format=csv", { as: "text" });
      const url = URL.createObjectURL(new Blob([csv], { type: "text/csv" }));
      const link = el("a", { href: url, download: "fields.csv" });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
      setStatus("The field map was downloaded as fields.csv.");
    } catch (err) {
      showError(err);
    }
  }

  // The quote to emphasise inside a highlighted document span, when it came from an answer.
  function quoteForSpan(documentId, span) {
    const citations = (state.answer && state.answer.citations) || [];
    const hit = citations.find((c) => c.document === documentId && c.start === span[0] && c.end === span[1]);
    return hit ? hit.quote : null;
  }

  function showAsk() {
    if (state.answer) {
      showView("answer");
    } else {
      showView(null);
    }
  }

  // --------------------------------------------------------------------- routing

  function parseRoute() {
    const parts = location.hash.replace(/^#\/?/, "").split("/");
    const name = parts[0] || "";
    if (name === "passage" && parts[1]) return { name, id: decodeURIComponent(parts[1]) };
    if (name === "document" && parts[1]) {
      const m = /^(\d+)-(\d+)$/.exec(parts[2] || "");
      return { name, id: decodeURIComponent(parts[1]), span: m ? [Number(m[1]), Number(m[2])] : null };
    }
    if (name === "documents") return { name };
    if (name === "fields") return { name };
    return { name: "ask" };
  }

  async function route() {
    const token = ++state.renderToken;
    state.previousHash = state.currentHash;
    state.currentHash = location.hash;
    if (!state.asking) clearError();
    const r = parseRoute();
    try {
      if (r.name === "passage") await showPassage(r.id, token);
      else if (r.name === "document") await showDocument(r.id, r.span, token);
      else if (r.name === "documents") await showDocuments(token);
      else if (r.name === "fields") await showFields(token);
      else showAsk();
    } catch (err) {
      if (token === state.renderToken) showError(err);
    }
  }

  // ------------------------------------------------------------------------ ask

  function setBusy(busy) {
    state.asking = busy;
    els.button.disabled = busy;
    els.button.textContent = busy ? "Searching…" : "Ask";
    els.form.setAttribute("aria-busy", busy ? "true" : "false");
    els.views.answer.setAttribute("aria-busy", busy ? "true" : "false");
    document.body.classList.toggle("is-busy", busy);
  }

  async function ask(event) {
    event.preventDefault();
    if (state.asking) return;
    const question = els.question.value.trim();
    clearError();
    if (!question) {
      showError(new ApiError("Type a question first."));
      els.question.focus();
      return;
    }
    setBusy(true);
    setStatus("Searching…");
    try {
      const answer = await api("ask", { method: "POST", body: { question } });
      state.answer = answer;
      state.quotes = new Map((answer.citations || []).map((c) => [c.passage_id, c.quote]));
      renderAnswer(answer);
      if (parseRoute().name !== "ask") {
        history.pushState(null, "", "#/");
      }
      state.renderToken++;
      showView("answer");
      const n = (answer.citations || []).length;
      setStatus(
        answer.answered
          ? `Answer ready, citing ${plural(n, "source", "sources")}.`
          : `${REASON_TITLES[answer.reason] || REASON_TITLES.no_evidence}. ${plural((answer.suggestions || []).length, "closest passage is", "closest passages are")} offered.`,
      );
    } catch (err) {
      showError(err);
    } finally {
      setBusy(false);
    }
  }

  function onQuestionKey(event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      els.form.requestSubmit();
    }
  }

  // ----------------------------------------------------------------------- wire

  els.form.addEventListener("submit", ask);
  els.question.addEventListener("keydown", onQuestionKey);
  els.keyCancel.addEventListener("click", () => els.keyDialog.close("cancel"));
  els.fieldsCsv.addEventListener("click", downloadFieldsCsv);
  window.addEventListener("hashchange", route);
  route();
})();
