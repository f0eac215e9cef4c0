"use strict";
// The one-line embed for another site: <script src="https://CHAT-HOST/embed.js" async></script>
// puts a launcher button in the page's corner that opens the chat in a frame from CHAT-HOST.
// CHAT-HOST must list the site in ALLOWED_ORIGINS, or the browser refuses the frame.
(() => {
  const script = document.currentScript;
  if (!script || window.ukkChatEmbedded) return;
  window.ukkChatEmbedded = true;
  const UI = "__UI__";
  const origin = new URL(script.src).origin;
  const hint = script.dataset.lang || document.documentElement.lang || navigator.language || "";
  const lang = hint.toLowerCase().startsWith("en") ? "en" : "id";
  const ui = UI[lang];
  const LAYER = "2147483000";

  const button = document.createElement("button");
  button.type = "button";
  button.textContent = ui.open;
  button.setAttribute("aria-expanded", "false");
  Object.assign(button.style, {
    position: "fixed", right: "16px", bottom: "16px", zIndex: LAYER,
    padding: "12px 20px", border: "0", borderRadius: "24px", cursor: "pointer",
    background: "#0b4f8a", color: "#fff", font: "600 16px system-ui, sans-serif",
    boxShadow: "0 4px 14px rgba(0, 0, 0, 0.25)",
  });

  let frame = null;
  const isOpen = () => frame !== null && frame.style.display !== "none";

  function open() {
    if (frame === null) {
      frame = document.createElement("iframe");
      frame.id = "ukk-chat-frame";
      frame.title = ui.title;
      frame.src = origin + "/?embed=1&lang=" + lang;
      Object.assign(frame.style, {
        position: "fixed", right: "16px", bottom: "76px", zIndex: LAYER,
        width: "min(400px, calc(100vw - 32px))", height: "min(640px, calc(100vh - 96px))",
        border: "1px solid #c3ccd5", borderRadius: "12px", background: "#fff",
        boxShadow: "0 8px 28px rgba(0, 0, 0, 0.25)",
      });
      document.body.append(frame);
      button.setAttribute("aria-controls", frame.id);
    }
    frame.style.display = "block";
    button.setAttribute("aria-expanded", "true");
    frame.focus();
  }

  function close() {
    frame.style.display = "none";
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }

  button.addEventListener("click", () => (isOpen() ? close() : open()));
  window.addEventListener("message", (event) => {
    if (event.origin === origin && event.data === "ukk-chat:close" && isOpen()) close();
  });
  const place = () => document.body.append(button);
  if (document.body) place();
  else document.addEventListener("DOMContentLoaded", place);
})();
