/* What the console's management pages add to client.js (All invitations, Groups, Registration
 * fields, Mail delivery): buttons, the confirmation dialog, busy controls, payload problems and
 * the per-language title inputs.
 *
 * Everything from the server is written with textContent or .value, never as markup.
 */

import { el, languageNames, problemWords, say, sayFailure } from "./client.js";

/** The problems of a payload, one line, each said once, in the page's language. */
export const problemText = (errors) => [...new Set(errors.map(problemWords))].join(" ");

const NOTE = "problem-note-";
let notes = 0;

/** Take away the marks of earlier problems inside `container` (a form, a dialog). */
export const clearProblems = (container) => {
  for (const note of container.querySelectorAll("[data-problem-note]")) {
    note.remove();
  }
  for (const input of container.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
    const kept = (input.getAttribute("aria-describedby") || "")
      .split(/\s+/)
      .filter((id) => id && !id.startsWith(NOTE));
    if (kept.length) {
      input.setAttribute("aria-describedby", kept.join(" "));
    } else {
      input.removeAttribute("aria-describedby");
    }
  }
};

/** Mark an input invalid, its words beside it and read with it (aria-describedby). */
export const markInvalid = (input, text) => {
  notes += 1;
  const note = el("p", text, { id: `${NOTE}${notes}`, class: "field-problem", "data-problem-note": "" });
  input.setAttribute("aria-invalid", "true");
  const described = [input.getAttribute("aria-describedby"), note.id].filter(Boolean).join(" ");
  input.setAttribute("aria-describedby", described);
  const box = input.type === "checkbox" || input.type === "radio" ? null : input.closest(".field");
  if (box) {
    box.append(note);
  } else {
    (input.closest(".check") || input).after(note);
  }
};

/**
 * Show a payload's problems in the page's language (problemWords); true when there were some.
 * `at(problem)` names the input a problem is about, or null: that input is marked invalid with
 * the words beside it; the other problems go in `element` (an alert). Each is said once, and
 * the focus goes to the first invalid input. `within`: where earlier marks are cleared first
 * (also when there is no problem); `prefix(problem)`: words before a problem's own (which of
 * several addresses typed in one input).
 */
export const showProblems = (element, errors, { at = () => null, within = null, prefix = () => "" } = {}) => {
  if (within) {
    clearProblems(within);
  }
  if (!errors.length) {
    return false;
  }
  const placed = new Map();
  const loose = [];
  for (const problem of errors) {
    const text = `${prefix(problem)}${problemWords(problem)}`;
    const input = at(problem) || null;
    if (input && !placed.has(input)) {
      placed.set(input, []);
    }
    const texts = input ? placed.get(input) : loose;
    if (!texts.includes(text)) {
      texts.push(text);
    }
  }
  for (const [input, texts] of placed) {
    markInvalid(input, texts.join(" "));
  }
  say(element, loose.join(" "), "error");
  const first = [...placed.keys()].sort((a, b) =>
    a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1,
  )[0];
  if (first) {
    first.focus();
  }
  return true;
};

/** The title input in `container` that a problem's field names ("title": the first
 * language's, "titles.nl-BE": another's), for a thing's titles or an option's; else null. */
export const titleInput = (container, field) => {
  const match = /^(title|titles\.([\w-]+))$/.exec(field || "");
  if (!match) {
    return null;
  }
  return match[2]
    ? container.querySelector(`input[data-title-locale="${match[2]}"], input[data-option-locale="${match[2]}"]`)
    : container.querySelector("input[data-default-title], input[data-option-default]");
};

/** A failed request's words in an alert (signed out, offline, a server problem). */
export const showFailure = (element, error) => {
  try {
    sayFailure(element, error);
  } catch (bug) {
    window.console.error(bug);
  }
};

export const button = (text, onClick, { className = "", label = "" } = {}) => {
  const element = el("button", text, { type: "button" });
  if (className) {
    element.className = className;
  }
  if (label) {
    element.setAttribute("aria-label", label);
  }
  element.addEventListener("click", onClick);
  return element;
};

/**
 * Ask before doing something that cannot be undone: the dialog's title and text, then true
 * if the admin confirmed. Escape and Cancel answer false; the focus goes back where it was.
 */
export const confirmAction = (dialog, { title, text, confirm }) =>
  new Promise((resolve) => {
    const back = document.activeElement;
    dialog.querySelector("[data-title]").textContent = title;
    dialog.querySelector("[data-text]").textContent = text;
    const yes = dialog.querySelector("[data-confirm]");
    const no = dialog.querySelector("[data-cancel]");
    yes.textContent = confirm;
    const done = (answer) => {
      yes.removeEventListener("click", onYes);
      no.removeEventListener("click", onNo);
      dialog.removeEventListener("close", onClose);
      if (dialog.open) {
        dialog.close();
      }
      if (back && back.isConnected) {
        back.focus();
      }
      resolve(answer);
    };
    const onYes = () => done(true);
    const onNo = () => done(false);
    const onClose = () => done(false);
    yes.addEventListener("click", onYes);
    no.addEventListener("click", onNo);
    dialog.addEventListener("close", onClose);
    dialog.showModal();
    no.focus();
  });

/** Where the focus was lost (a disabled or removed control hands it to the page itself). */
const focusLost = () => !document.activeElement || document.activeElement === document.body;

/** Run an action with its control disabled meanwhile; the focus it had comes back to it (a
 * disabled control loses it), if nothing else took it and it is still there. */
export const busy = async (control, action) => {
  const hadFocus = document.activeElement === control;
  control.disabled = true;
  try {
    return await action();
  } finally {
    control.disabled = false;
    if (hadFocus && control.isConnected && focusLost()) {
      control.focus();
    }
  }
};

/** After an action that drew the page again (its control gone with the rows), the focus goes
 * to the first of `messages` shown, the one that says what happened, if it was lost. */
export const keepFocus = (...messages) => {
  if (!focusLost()) {
    return;
  }
  const shown = messages.find((message) => message && !message.hidden && message.textContent);
  if (shown) {
    shown.tabIndex = -1;
    shown.focus();
  }
};

/** After saving: which of the platform's other languages have no title, for which things.
 * `things`: [{name, inputs}] with `inputs` the per-language title inputs by locale (the first
 * language's included). Residents who use such a language see the first language's title: a
 * warning, one sentence a language, or "". */
export const missingTitles = (things, words) => {
  const names = languageNames();
  const [first, ...others] = Object.keys(names);
  return others
    .map((locale) => {
      const lacking = things.filter((thing) => thing.inputs[locale] && !thing.inputs[locale].value.trim());
      return lacking.length
        ? words(names[locale], lacking.map((thing) => thing.name).join(", "), names[first])
        : "";
    })
    .filter(Boolean)
    .join(" ");
};

/** The titles typed in a container's per-language inputs: [{locale, text}]. */
export const titleInputs = (container) =>
  Array.from(container.querySelectorAll("input[data-title-locale]"), (input) => ({
    locale: input.dataset.titleLocale,
    text: input.value.trim(),
  }));

/** Fill a container's per-language inputs from a thing's `titles`. */
export const showTitles = (container, titles) => {
  const byLocale = Object.fromEntries((titles || []).map((title) => [title.locale, title.text]));
  for (const input of container.querySelectorAll("input[data-title-locale]")) {
    input.value = byLocale[input.dataset.titleLocale] || "";
  }
};
