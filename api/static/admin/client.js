/* What every admin page shares: its words, a GraphQL client of the public API, uploads, and
 * small helpers to show results. The console's cookie (HttpOnly, SameSite=Strict)
 * authenticates the requests: same-origin JSON POSTs, and uploads with the preflight header.
 *
 * Everything from the server is written with textContent or .value, never as markup.
 */

export const $ = (id) => document.getElementById(id);

const main = $("main");
const words = JSON.parse(main.dataset.words || "{}");
export const ROOT = main.dataset.root || "";
export const LOCALE = document.documentElement.lang;

// ---------------------------------------------------------------------------------------------
// Words

export const fill = (template, values = {}) =>
  template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));

/** A message of the page's catalog (api/admin.py sends the ones its script shows). */
export const t = (key, values) => {
  const text = words[key];
  if (typeof text !== "string") {
    throw new Error(`no words for ${key}`);
  }
  return fill(text, values);
};

/** A plural message: its forms come by CLDR category ("one", "other", ...). */
export const plural = (key, count, values = {}) => {
  const forms = words[key];
  if (!forms || typeof forms !== "object") {
    throw new Error(`no plural words for ${key}`);
  }
  const category = new Intl.PluralRules(LOCALE).select(count);
  return fill(forms[category] || forms.other, { ...values, count: formatNumber(count) });
};

export const formatNumber = (value) => new Intl.NumberFormat(LOCALE).format(value);

export const formatDate = (iso) =>
  iso
    ? new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium", timeStyle: "short" }).format(
        new Date(iso),
      )
    : "";

// ---------------------------------------------------------------------------------------------
// The server

/** Why a request gave no data: "signed_out", "offline" or "failed" (t("admin." + kind)). */
export class Failure extends Error {
  constructor(kind, detail = "") {
    super(detail || kind);
    this.kind = kind;
  }
  get words() {
    return t(`admin.${this.kind}`);
  }
}

const SIGNED_OUT_MESSAGES = [
  "Sign in first.",
  "Only admins can do this.",
  "Your session is over (it expired or was ended): sign in again.",
];

const send = async (body, headers) => {
  let response;
  try {
    response = await fetch(`${ROOT}/graphql`, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", ...headers },
      body,
    });
  } catch (error) {
    throw new Failure("offline", String(error));
  }
  let answer;
  try {
    answer = await response.json();
  } catch (error) {
    throw new Failure("failed", `HTTP ${response.status}`);
  }
  if (answer.errors && answer.errors.length) {
    const messages = answer.errors.map((error) => error.message);
    const signedOut = messages.some((message) => SIGNED_OUT_MESSAGES.includes(message));
    throw new Failure(signedOut ? "signed_out" : "failed", messages.join(" "));
  }
  if (!response.ok || !answer.data) {
    throw new Failure("failed", `HTTP ${response.status}`);
  }
  return answer.data;
};

/** Run a query or mutation; resolves to its data. Typed problems stay inside the payloads
 * (`errors: [UserError]`): show them beside what they concern. */
export const graphql = (query, variables = {}) =>
  send(JSON.stringify({ query, variables }), { "Content-Type": "application/json" });

/** A mutation that takes a file (GraphQL multipart request): `file` goes to the variable
 * named `variable`. */
export const upload = (query, variables, variable, file) => {
  const form = new FormData();
  form.append("operations", JSON.stringify({ query, variables: { ...variables, [variable]: null } }));
  form.append("map", JSON.stringify({ 0: [`variables.${variable}`] }));
  form.append("0", file, file.name);
  // The header makes the browser ask first (CORS preflight), which the server never grants to
  // another site: without it the server refuses a multipart request.
  return send(form, { "Apollo-Require-Preflight": "true" });
};

// ---------------------------------------------------------------------------------------------
// Showing things

/** An element with text: el("td", "abc"), el("a", "link", { href }). */
export const el = (tag, text = "", attributes = {}) => {
  const element = document.createElement(tag);
  if (text !== "") {
    element.textContent = text;
  }
  for (const [name, value] of Object.entries(attributes)) {
    element.setAttribute(name, value);
  }
  return element;
};

/** Put a message in a status element (role="status" or "alert"), or clear it. */
export const say = (element, text, kind = "") => {
  element.textContent = text || "";
  element.classList.toggle("error", kind === "error");
  element.classList.toggle("success", kind === "success");
  element.hidden = !text;
};

/** A failure's words in an element; anything else is a bug: shown as "failed" and rethrown.
 * A session that ended offers the sign-in in a new tab: this page, and what was typed in it,
 * stay as they are for the next try. */
export const sayFailure = (element, error) => {
  say(element, error instanceof Failure ? error.words : t("admin.failed"), "error");
  if (error instanceof Failure && error.kind === "signed_out") {
    const signIn = el("a", t("admin.sign_in_again"), {
      href: `${ROOT}/admin${window.location.search}`,
      target: "_blank",
      rel: "noopener",
    });
    element.append(" ", signIn);
  }
  if (!(error instanceof Failure)) {
    throw error;
  }
};

/** The language-aware link to another admin page (keeps ?lang= when the switch set it). */
export const adminLink = (path) => `${ROOT}${path}${window.location.search}`;

/** A failed import's problems file, its words in the page's language. */
export const problemsFile = (importId) => {
  const id = encodeURIComponent(importId);
  return `${ROOT}/invitations/imports/${id}/problems.xlsx?lang=${encodeURIComponent(LOCALE)}`;
};

/** Fill a fieldset of checkboxes (name) from [{id, label}]; `empty` when there are none. */
export const checkboxes = (container, name, items, empty) => {
  container.replaceChildren();
  if (!items.length) {
    container.append(el("p", empty, { class: "hint" }));
    return;
  }
  items.forEach((item, index) => {
    const id = `${name}-${index}`;
    const wrapper = el("div", "", { class: "check" });
    const box = el("input", "", { type: "checkbox", id, name, value: item.id });
    wrapper.append(box, el("label", item.label, { for: id }));
    container.append(wrapper);
  });
};

export const checkedValues = (form, name) =>
  [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((box) => box.value);

/* The platform's languages, as the language switch lists them. */
const languages = () =>
  [...document.querySelectorAll("nav.languages a[hreflang]")].map((link) => link.hreflang);

/** The platform's languages by code, each named as the language switch names it. */
export const languageNames = () =>
  Object.fromEntries(
    [...document.querySelectorAll("nav.languages a[hreflang]")].map((link) => [
      link.hreflang,
      link.textContent.trim(),
    ]),
  );

/** A title or value quoted as the page's language does. */
export const quoted = (text) => (LOCALE.startsWith("fr") ? `« ${text} »` : `‘${text}’`);

/** A smart group's rule in the page's language, from a problem's details (as the groups page
 * words rules); the server's words for it when the page has no words for its parts. */
const ruleWords = (details) => {
  const attribute = words[`admin.groups.attr_${details.attribute}`];
  const operator = words[`admin.groups.op_${details.operator}`];
  const what = details.attribute === "field" ? details.subject : attribute;
  if (typeof what !== "string" || !what || typeof operator !== "string") {
    return details.rule || "";
  }
  return `${what} ${operator} ${details.values || ""}`;
};

/** A typed problem (UserError) in the page's language: the catalog's words for its code and
 * reason (`admin.problem.CODE.REASON`), else for its reason whatever the code
 * (`admin.reason.REASON`), else for its code (`admin.problem.CODE`), with its {value},
 * {groups}, its details by name (the {column}, the {cell}, the template's {columns}, the
 * {rule}...), the {choices} a page knows of and the platform's {languages} (plural words: as
 * many as its details' count, else its groups); the server's message only for a problem the
 * page has no words for (or whose details its words lack). */
export const problemWords = (problem) => {
  const keys = [`admin.problem.${problem.code}`];
  if (problem.reason) {
    keys.unshift(`admin.problem.${problem.code}.${problem.reason}`, `admin.reason.${problem.reason}`);
  }
  const key = keys.find((name) => words[name] && ["string", "object"].includes(typeof words[name]));
  if (!key) {
    return problem.message;
  }
  const details = Object.fromEntries((problem.details || []).map((d) => [d.name, d.value]));
  for (const name of ["shown", "total"]) {
    if (/^\d+$/.test(details[name] || "")) details[name] = formatNumber(Number(details[name]));
  }
  if (details.attribute && details.operator) {
    details.rule = ruleWords(details);
  }
  const values = {
    ...details,
    value: problem.value ?? "",
    groups: (problem.groups || []).map(quoted).join(", "),
    choices: (problem.choices || []).join(", "),
    languages: languages().join(", "),
  };
  const missing = [...String(JSON.stringify(words[key])).matchAll(/\{(\w+)\}/g)].some(
    ([, name]) => name !== "count" && !(name in values),
  );
  if (missing) {
    return problem.message; // words for details this problem does not carry
  }
  // Words about groups have a form for one group and for several; the marker of the problems
  // left out, for as many as it counts.
  const count = /^\d+$/.test(details.count || "") ? Number(details.count) : (problem.groups || []).length;
  return typeof words[key] === "object" ? plural(key, count, values) : t(key, values);
};

/** How many problems there were: those listed, and those the last one says were left out. */
export const problemCount = (problems) =>
  problems.reduce(
    (total, problem) =>
      total +
      (problem.reason === "MORE_PROBLEMS"
        ? Number((problem.details || []).find((d) => d.name === "count")?.value || 1)
        : 1),
    0,
  );

/** The fields of UserError problemWords and problemCount use. */
export const PROBLEM_FIELDS = "code message field value reason groups details { name value }";

// ---------------------------------------------------------------------------------------------
// The language switch

const SAVE_LANGUAGE = `mutation SaveLanguage($locale: String!) {
  updateProfile(input: { locale: $locale }) { errors { code } }
}`;

/* Signed in, a language picked with the switch becomes the account's (as /account sets it):
 * the console opens in it next time too, not only on the pages its ?lang= link leads to. The
 * link is followed either way; without this script it still switches, for those pages. */
if ($("admin-email")) {
  for (const link of document.querySelectorAll("nav.languages a[hreflang]")) {
    link.addEventListener("click", async (event) => {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
        return; // opened in another tab or window: a look, not a choice
      }
      event.preventDefault();
      try {
        await graphql(SAVE_LANGUAGE, { locale: link.hreflang });
      } catch {
        // Offline or signed out: the page still comes in the language picked.
      }
      window.location.assign(link.href);
    });
  }
}
