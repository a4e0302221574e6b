/* Registration fields: the list; a new field (key, type, titles per language, required,
 * the options of a select field); editing a field's titles, options and whether it is
 * required (its key and type never change); deletion, not offered while a smart group's rule
 * tests the field (the dialog names those groups; the API refuses it: FIELD_IN_USE).
 */

import { $, el, graphql, languageNames, LOCALE, plural, quoted, say, t } from "./client.js";
import {
  busy,
  button,
  clearProblems,
  confirmAction,
  markInvalid,
  missingTitles,
  showFailure,
  showProblems,
  showTitles,
  titleInput,
  titleInputs,
} from "./manage.js";

const FIELDS = `
query Fields($locale: String) {
  registrationFields {
    id key type required title(locale: $locale) titles { locale text }
    options { key title(locale: $locale) titles { locale text } }
  }
}`;
const FIELD_ERRORS = "errors { code message field position value reason groups }";
const CREATE = `
mutation CreateField($input: CreateRegistrationFieldInput!, $locale: String) {
  createRegistrationField(input: $input) {
    registrationField { id title(locale: $locale) } ${FIELD_ERRORS}
  }
}`;
const UPDATE = `
mutation UpdateField($id: ID!, $input: UpdateRegistrationFieldInput!, $locale: String) {
  updateRegistrationField(id: $id, input: $input, locale: $locale) {
    registrationField { id } clearedValues { usersCount invitationsCount } ${FIELD_ERRORS}
  }
}`;
const HELD = `
query Held($locale: String) {
  registrationFields {
    id heldValues { usersCount invitationsCount } groupsTesting { title(locale: $locale) }
  }
}`;
const DELETE = `
mutation DeleteField($id: ID!, $locale: String) {
  deleteRegistrationField(id: $id, locale: $locale) {
    deletedId clearedValues { usersCount invitationsCount } ${FIELD_ERRORS}
  }
}`;

const problem = $("problem");
const done = $("done");
let optionCount = 0;

// ---------------------------------------------------------------------------------------------
// Options of a select field

const addOption = (box, option = null) => {
  optionCount += 1;
  const row = $("option-template").content.firstElementChild.cloneNode(true);
  for (const label of row.querySelectorAll("label[data-for]")) {
    const control = row.querySelector(`[data-name="${label.dataset.for}"]`);
    control.id = `option-${optionCount}-${label.dataset.for}`;
    label.htmlFor = control.id;
  }
  if (option) {
    const key = row.querySelector("[data-name=key]");
    key.value = option.key;
    key.readOnly = true; // what values store: it never changes
    const titles = Object.fromEntries(option.titles.map((title) => [title.locale, title.text]));
    for (const input of row.querySelectorAll("[data-option-locale]")) {
      input.value = titles[input.dataset.optionLocale] || "";
    }
  }
  row.querySelector("[data-remove]").addEventListener("click", () => {
    row.remove();
    box.querySelector("[data-add-option]").focus();
  });
  box.querySelector("[data-options]").append(row);
  return row;
};

const optionOf = (row) => {
  const key = row.querySelector("[data-name=key]").value.trim();
  const title = row.querySelector("[data-option-default]").value.trim();
  const titles = Array.from(row.querySelectorAll("[data-option-locale]:not([data-option-default])"), (input) => ({
    locale: input.dataset.optionLocale,
    text: input.value.trim(),
  }));
  return { key, title: title || null, titles };
};

/** The option rows sent, in the order sent (a problem's position is one of them). */
const optionRows = (box) =>
  Array.from(box.querySelectorAll(".option-row")).filter((row) => {
    const option = optionOf(row);
    return option.key || option.title;
  });

const optionsOf = (box) => optionRows(box).map(optionOf);

/** The input a problem of the form is about: the key, a title, an option's key or title. */
const problemInput = (form, box) => (problem) => {
  const rows = optionRows(box);
  const field = problem.field || "";
  if (field === "key") {
    return form.querySelector("#new-key");
  }
  const option = /^options\.(\d+)\.(.+)$/.exec(field);
  if (option) {
    return rows[Number(option[1])] ? titleInput(rows[Number(option[1])], option[2]) : null;
  }
  if (field === "options") {
    const row = problem.position === null || problem.position === undefined ? rows[0] : rows[problem.position];
    const target = row || box.querySelector(".option-row");
    return problem.code === "FIELD_IN_USE" || !target ? null : target.querySelector("[data-name=key]");
  }
  return titleInput(form, field);
};

/** The things of the form whose titles residents read: the field, each option. */
const titledThings = (form, box, fieldTitle) => {
  const inputsOf = (container, attribute) =>
    Object.fromEntries(
      Array.from(container.querySelectorAll(`input[${attribute}]`), (input) => [
        input.getAttribute(attribute),
        input,
      ]),
    );
  const own = inputsOf(form, "data-title-locale");
  return [
    { name: quoted(fieldTitle), inputs: own },
    ...(box.hidden ? [] : optionRows(box)).map((row) => ({
      name: quoted(optionOf(row).title || optionOf(row).key),
      inputs: inputsOf(row, "data-option-locale"),
    })),
  ];
};

const titleWarning = (form, box, fieldTitle) =>
  missingTitles(titledThings(form, box, fieldTitle), (language, items, first) =>
    t("admin.lists.missing_title", { language, items, first }),
  );

for (const box of document.querySelectorAll("[data-options-box]")) {
  box.querySelector("[data-add-option]").addEventListener("click", () =>
    addOption(box).querySelector("input").focus(),
  );
}

/** The title the platform's default language needs (the others are optional). */
const titleNeeded = () => t("admin.fields.title_needed", { language: Object.values(languageNames())[0] });

// ---------------------------------------------------------------------------------------------
// The list

const typeText = (type) => t(`admin.fields.type_${type.toLowerCase()}`);

const fieldCard = (field) => {
  const card = el("li", "", { class: "card", "data-id": field.id, "data-key": field.key });
  // Focusable by the page (tabindex -1, not in the tab order): a new field's heading gets the
  // focus once it is made.
  card.append(el("h3", field.title, { tabindex: "-1" }));
  const facts = [field.key, typeText(field.type)];
  if (field.required) {
    facts.push(t("admin.fields.is_required"));
  }
  card.append(el("p", facts.join(" · ")));
  if (field.options.length) {
    card.append(
      el("p", t("admin.fields.options_list", { options: field.options.map((o) => o.title).join(", ") }), {
        class: "options",
      }),
    );
  }
  const actions = el("div", "", { class: "row-actions" });
  actions.append(
    button(t("admin.fields.edit"), () => openEdit(field), {
      className: "secondary",
      label: t("admin.fields.edit_of", { field: field.title }),
    }),
    button(t("admin.fields.delete"), () => deleteField(field), {
      className: "danger",
      label: t("admin.fields.delete_of", { field: field.title }),
    }),
  );
  actions.firstElementChild.dataset.action = "edit";
  card.append(actions);
  return card;
};

/** After the list is built again: the focus on a field's control (`selector` within its card:
 * its heading for a new field, the Edit button that opened the dialog, which was replaced),
 * else on the list's heading. */
const focusField = (id, selector) => {
  const control = $("fields").querySelector(`li[data-id="${CSS.escape(String(id))}"] ${selector}`);
  (control || $("list-title")).focus();
};

const load = async () => {
  const list = $("fields");
  try {
    const { registrationFields } = await graphql(FIELDS, { locale: LOCALE });
    list.replaceChildren(...registrationFields.map(fieldCard));
    $("empty").hidden = registrationFields.length > 0;
  } catch (error) {
    showFailure(problem, error);
  } finally {
    list.removeAttribute("aria-busy");
  }
};

const clearedText = (cleared) =>
  cleared && (cleared.usersCount || cleared.invitationsCount)
    ? t("admin.fields.cleared", {
        people: plural("admin.fields.people", cleared.usersCount),
        invitations: plural("admin.fields.invitations", cleared.invitationsCount),
      })
    : "";

// ---------------------------------------------------------------------------------------------
// A new field

const newForm = $("new-field");
const newOptions = $("new-options-box");
const showOptionsBox = () => {
  newOptions.hidden = $("new-type").value !== "SELECT";
  if (!newOptions.hidden && !newOptions.querySelector(".option-row")) {
    addOption(newOptions);
  }
};
$("new-type").addEventListener("change", showOptionsBox);
showOptionsBox();

newForm.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(newForm.querySelector("button[type=submit]"), async () => {
    say($("new-problem"), "");
    say(done, "");
    clearProblems(newForm);
    const key = $("new-key");
    const title = newForm.querySelector("[data-default-title]");
    for (const [input, words] of [
      [key, t("admin.fields.key_needed")],
      [title, titleNeeded()],
    ]) {
      if (!input.value.trim()) {
        markInvalid(input, words);
        input.focus();
        return;
      }
    }
    const type = $("new-type").value;
    const input = {
      key: key.value.trim(),
      title: title.value.trim(),
      titles: titleInputs(newForm).filter((item) => item.text),
      type,
      required: $("new-required").checked,
      options: type === "SELECT" ? optionsOf(newOptions) : [],
    };
    try {
      const { createRegistrationField: created } = await graphql(CREATE, { input, locale: LOCALE });
      if (
        showProblems($("new-problem"), created.errors, {
          at: problemInput(newForm, newOptions),
          within: newForm,
        })
      ) {
        return;
      }
      const warning = titleWarning(newForm, newOptions, input.title);
      newForm.reset();
      newOptions.querySelector("[data-options]").replaceChildren();
      showOptionsBox();
      await load();
      // The focus on the new field in the list (its heading: its buttons follow), then the
      // status: said after the heading, not cut short by the focus moving.
      focusField(created.registrationField.id, "h3");
      say(
        done,
        [t("admin.fields.created", { field: created.registrationField.title }), warning]
          .filter(Boolean)
          .join(" "),
        "success",
      );
    } catch (error) {
      showFailure($("new-problem"), error);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Editing

const editDialog = $("edit");
const editForm = $("edit-form");
const editOptions = $("edit-options-box");
let editing = null;

const openEdit = (field) => {
  editing = field;
  say($("edit-problem"), "");
  clearProblems(editForm);
  $("edit-title").textContent = t("admin.fields.edit_of", { field: field.title });
  editForm.querySelector("[data-default-title]").value = field.titles[0]?.text || field.title;
  showTitles(editForm, field.titles.slice(1));
  $("edit-required").checked = field.required;
  editOptions.hidden = field.type !== "SELECT";
  editOptions.querySelector("[data-options]").replaceChildren();
  for (const option of field.options) {
    addOption(editOptions, option);
  }
  editDialog.showModal();
  editForm.querySelector("[data-default-title]").focus();
};
editForm.querySelector("[data-cancel]").addEventListener("click", () => editDialog.close());

editForm.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(editForm.querySelector("button[type=submit]"), async () => {
    say($("edit-problem"), "");
    clearProblems(editForm);
    const titleBox = editForm.querySelector("[data-default-title]");
    const title = titleBox.value.trim();
    if (!title) {
      markInvalid(titleBox, titleNeeded());
      titleBox.focus();
      return;
    }
    const input = {
      title,
      titles: titleInputs(editForm),
      required: $("edit-required").checked,
    };
    if (editing.type === "SELECT") {
      input.options = optionsOf(editOptions);
    }
    try {
      const { updateRegistrationField: updated } = await graphql(UPDATE, { id: editing.id, input, locale: LOCALE });
      if (
        showProblems($("edit-problem"), updated.errors, {
          at: problemInput(editForm, editOptions),
          within: editForm,
        })
      ) {
        return;
      }
      const warning = titleWarning(editForm, editOptions, title);
      editDialog.close();
      await load();
      // Back on the field's Edit button (the dialog's opener, built again), then the status.
      focusField(editing.id, "[data-action=edit]");
      say(
        done,
        [t("admin.lists.saved"), clearedText(updated.clearedValues), warning].filter(Boolean).join(" "),
        "success",
      );
    } catch (error) {
      showFailure($("edit-problem"), error);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Deleting

const inUse = $("in-use");

/** Why a field cannot be deleted: the smart groups whose rules test it, in the page's
 * language. Closed with its button or Escape; the focus goes back where it was. */
const showInUse = (field, groups) =>
  new Promise((resolve) => {
    const back = document.activeElement;
    $("in-use-title").textContent = t("admin.fields.in_use_title", { field: field.title });
    $("in-use-text").textContent = plural("admin.fields.in_use_text", groups.length, {
      groups: groups.map(quoted).join(", "),
    });
    const close = inUse.querySelector("[data-close]");
    const onClick = () => inUse.close();
    const onClose = () => {
      close.removeEventListener("click", onClick);
      inUse.removeEventListener("close", onClose);
      if (back && back.isConnected) {
        back.focus();
      }
      resolve();
    };
    close.addEventListener("click", onClick);
    inUse.addEventListener("close", onClose);
    inUse.showModal();
    close.focus();
  });

const deleteField = async (field) => {
  say(done, "");
  say(problem, "");
  let held;
  let groups = [];
  try {
    const { registrationFields } = await graphql(HELD, { locale: LOCALE });
    const found = registrationFields.find((item) => item.id === field.id);
    held = found?.heldValues;
    groups = (found?.groupsTesting || []).map((group) => group.title);
  } catch (error) {
    showFailure(problem, error);
    return;
  }
  if (groups.length) {
    // A smart group's rule tests it: deleting it would be refused, so it is not offered.
    await showInUse(field, groups);
    return;
  }
  const heldText =
    held && (held.usersCount || held.invitationsCount)
      ? t("admin.fields.delete_held", {
          people: plural("admin.fields.people", held.usersCount),
          invitations: plural("admin.fields.invitations", held.invitationsCount),
        })
      : t("admin.fields.delete_none");
  const confirmed = await confirmAction($("confirm"), {
    title: t("admin.fields.delete_title", { field: field.title }),
    text: `${t("admin.fields.delete_text")} ${heldText}`,
    confirm: t("admin.fields.delete"),
  });
  if (!confirmed) {
    return;
  }
  try {
    const { deleteRegistrationField: deleted } = await graphql(DELETE, { id: field.id, locale: LOCALE });
    if (showProblems(problem, deleted.errors)) {
      problem.focus?.();
      return;
    }
    say(
      done,
      [t("admin.fields.deleted", { field: field.title }), clearedText(deleted.clearedValues)]
        .filter(Boolean)
        .join(" "),
      "success",
    );
    await load();
    $("list-title").focus();
  } catch (error) {
    showFailure(problem, error);
  }
};

load();

// The button comes disabled (before this script, a click or Enter would send the form the
// browser's way, with what was typed in the address): it works from here on.
$("new-field-submit").disabled = false;
