/* What the console's management pages add to client.js (All invitations, Groups, Registration
 * fields, Mail delivery): buttons, the confirmation dialog, busy controls, payload problems and
 * the per-language title inputs.
 *
 * Everything from the server is written with textContent or .value, never as markup.
 */

import { el, say, sayFailure } from "./client.js";

/** The problems of a payload, one line (the API's messages, which say what to do). */
export const problemText = (errors) => errors.map((error) => error.message).join(" ");

/** Show a payload's problems in an alert; true when there were some. */
export const showProblems = (element, errors) => {
  if (!errors.length) {
    return false;
  }
  say(element, problemText(errors), "error");
  return true;
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
