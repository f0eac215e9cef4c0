"use strict";
// The web chat page. Replies arrive as blocks of text runs and are built with DOM calls only,
// never as HTML. One request at a time, in order. The conversation is kept in sessionStorage:
// it survives a reload and ends with the tab (a shared computer at the MPP forgets it).
(() => {
  const config = JSON.parse(document.getElementById("ukk-config").textContent);
  const API = "/api/chat";
  const STORAGE_KEY = "ukk-chat";
  const MAX_ITEMS = 200; // messages kept in the tab's storage
  const SAFE_HREF = /^(https?:\/\/|tel:\+\d+$)/;
  const PNG = "data:image/png;base64,";
  const CLOSE_MESSAGE = "ukk-chat:close"; // to embed.js in the parent page
  const byId = (id) => document.getElementById(id);
  const log = byId("log");
  const form = byId("f");
  const input = byId("q");
  const sendButton = byId("send");
  const typing = byId("typing");
  const announcer = byId("announce");
  const count = byId("count");
  const tooLong = byId("too-long");
  const closeButton = byId("close");

  const state = load();
  let lang = state.lang in config.ui ? state.lang : config.lang;
  let busy = false;
  let queue = Promise.resolve();

  function load() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY));
      if (saved && typeof saved.session === "string" && Array.isArray(saved.items)) return saved;
    } catch (err) {
      // storage blocked or unreadable: start a new conversation
    }
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const session = "w" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return { session, lang: null, items: [] };
  }

  function save() {
    state.items = state.items.slice(-MAX_ITEMS);
    state.lang = lang;
    try {
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify(state));
    } catch (err) {
      // storage full or blocked: the chat goes on without history
    }
  }

  const ui = (key) => config.ui[lang][key];

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function applyLanguage(next) {
    if (next in config.ui) lang = next;
    document.documentElement.lang = lang;
    document.title = ui("title");
    byId("title").textContent = ui("title");
    log.setAttribute("aria-label", ui("log_label"));
    byId("q-label").textContent = ui("input_label");
    input.placeholder = ui("placeholder");
    sendButton.textContent = ui("send");
    typing.textContent = ui("typing");
    closeButton.setAttribute("aria-label", ui("close"));
    closeButton.title = ui("close");
    updateCount();
  }

  function addRuns(parent, runs) {
    for (const run of runs) {
      let node = document.createTextNode(run.text);
      if (typeof run.href === "string" && SAFE_HREF.test(run.href)) {
        node = el("a", null, run.text);
        node.href = run.href;
        if (!run.href.startsWith("tel:")) {
          node.target = "_blank";
          node.rel = "noopener noreferrer";
        }
      }
      if (run.bold) {
        const strong = el("strong");
        strong.append(node);
        node = strong;
      }
      parent.append(node);
    }
  }

  function addBlocks(parent, blocks) {
    for (const block of blocks) {
      if (block.kind === "p") {
        const p = el("p");
        block.items.forEach((line, i) => {
          if (i) p.append(el("br"));
          addRuns(p, line);
        });
        parent.append(p);
      } else {
        const list = el(block.kind === "ol" ? "ol" : "ul");
        for (const line of block.items) {
          const li = el("li");
          addRuns(li, line);
          list.append(li);
        }
        parent.append(list);
      }
    }
  }

  function stamp(at) {
    const date = new Date(at);
    const locale = lang === "en" ? "en-GB" : "id-ID";
    const time = el("time", "at", date.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" }));
    time.dateTime = date.toISOString();
    return time;
  }

  function render(item) {
    const box = el("div", "item " + item.who);
    const bubble = el("div", "bubble");
    bubble.append(el("span", "sr-only", (item.who === "me" ? ui("you") : ui("assistant")) + " "));
    box.append(bubble);
    if (item.who === "me") {
      bubble.append(document.createTextNode(item.text));
    } else {
      const reply = item.reply;
      if (typeof reply.image === "string" && reply.image.startsWith(PNG)) {
        const img = el("img", "chart");
        img.src = reply.image;
        img.alt = ui("chart");
        bubble.append(img);
      }
      addBlocks(bubble, reply.blocks || [{ kind: "p", items: [[{ text: reply.text }]] }]);
      for (const group of reply.groups || []) box.append(renderGroup(item, group));
    }
    box.append(stamp(item.at));
    return box;
  }

  function renderGroup(item, group) {
    const box = el("div", "group " + group.kind);
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", group.label);
    if (group.kind === "feedback") {
      const caption = el("span", "caption", group.label);
      caption.setAttribute("aria-hidden", "true");
      box.append(caption);
    }
    for (const option of group.options) {
      const button = el("button", item.chosen === option.id ? "chosen" : "", option.label);
      button.type = "button";
      button.disabled = Boolean(item.done);
      button.addEventListener("click", () => {
        if (busy || button.disabled) return;
        closeOptions();
        item.chosen = option.id;
        button.classList.add("chosen");
        submit({ action: option.id }, option.label, true);
      });
      box.append(button);
    }
    return box;
  }

  // Buttons act once: anything sent closes every earlier button (and a pending retry).
  function closeOptions() {
    for (const item of state.items) if (item.who === "bot") item.done = true;
    for (const button of log.querySelectorAll("button")) button.disabled = true;
  }

  function add(item) {
    state.items.push(item);
    const node = render(item);
    log.append(node);
    return node;
  }

  function submit(payload, echo, byButton) {
    const echoNode = add({ who: "me", text: echo, at: Date.now() });
    save();
    log.scrollTop = log.scrollHeight;
    queue = queue.then(() => request(payload, byButton, echoNode));
  }

  function setBusy(on) {
    busy = on;
    input.disabled = on;
    typing.hidden = !on;
    updateCount();
  }

  async function request(payload, byButton, echoNode) {
    setBusy(true);
    let data;
    try {
      const response = await fetch(API, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ session: state.session, lang, ...payload }),
      });
      if (!response.ok) throw new Error("HTTP " + response.status);
      data = await response.json();
      if (!Array.isArray(data.replies)) throw new Error("no replies");
    } catch (err) {
      setBusy(false);
      showFailure(payload, byButton, echoNode);
      return;
    }
    setBusy(false);
    applyLanguage(data.lang);
    const nodes = data.replies.map((reply) => add({ who: "bot", reply, at: Date.now() }));
    save();
    if (!nodes.length) return;
    reveal(nodes[0], echoNode);
    announce(data.replies.map((reply) => reply.text).join("\n"));
    const firstButton = nodes.map((node) => node.querySelector(".group button")).find(Boolean);
    (byButton && firstButton ? firstButton : input).focus({ preventScroll: true });
  }

  function showFailure(payload, byButton, echoNode) {
    const box = el("div", "item error");
    box.append(el("p", "bubble", ui("failed")));
    const retry = el("button", "", ui("retry"));
    retry.type = "button";
    retry.addEventListener("click", () => {
      box.remove();
      queue = queue.then(() => request(payload, byButton, echoNode));
    });
    box.append(retry);
    log.append(box);
    reveal(box, echoNode);
    announce(ui("failed"));
    retry.focus({ preventScroll: true });
  }

  // The top of the new reply comes into view: with the person's own message above it when
  // both fit, else the reply's first line at the top of the log.
  function reveal(node, echoNode) {
    const margin = 8;
    const fromEcho = echoNode && echoNode.isConnected;
    const start = fromEcho && log.scrollHeight - echoNode.offsetTop <= log.clientHeight ? echoNode : node;
    log.scrollTop = start.offsetTop - margin;
  }

  function announce(text) {
    announcer.textContent = "";
    // A fresh text node after a tick, so the same words twice are still announced.
    setTimeout(() => {
      announcer.textContent = text;
    }, 50);
  }

  function updateCount() {
    const length = input.value.length;
    const over = length > config.maxChars;
    count.hidden = length < config.maxChars * 0.8;
    count.textContent = length + "/" + config.maxChars;
    tooLong.hidden = !over;
    tooLong.textContent = over
      ? ui("too_long").replace("{count}", length).replace("{max}", config.maxChars)
      : "";
    input.setAttribute("aria-invalid", String(over));
    sendButton.disabled = busy || over;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || busy || input.value.length > config.maxChars) return;
    input.value = "";
    closeOptions();
    submit({ text }, text, false);
  });
  input.addEventListener("input", updateCount);

  if (new URLSearchParams(location.search).has("embed")) {
    document.body.classList.add("embedded");
    closeButton.hidden = false;
    const close = () => window.parent.postMessage(CLOSE_MESSAGE, "*");
    closeButton.addEventListener("click", close);
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") close();
    });
  }

  applyLanguage(lang);
  for (const item of state.items) log.append(render(item));
  log.scrollTop = log.scrollHeight;
  if (!state.items.length) queue = queue.then(() => request({ text: "/start" }, false, null));
})();
