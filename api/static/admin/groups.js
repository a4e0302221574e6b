/* Groups: every group with its member count; new manual and smart groups (rules over the email
 * domain, locale, role and registration field values); titles per language; deletion; the
 * members of a manual group a page at a time, added by address and removed.
 */

import { $, el, graphql, languageNames, LOCALE, plural, quoted, ROOT, say, t } from "./client.js";
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

const MEMBERS_PAGE = 20;

const GROUPS = `
query Groups($locale: String) {
  groups {
    id kind matchAll memberCount title(locale: $locale) titles { locale text }
    rules { attribute operator fieldKey value description }
  }
  registrationFields { key type title(locale: $locale) options { key title(locale: $locale) } }
}`;
const ERRORS = "errors { code message field position value reason groups }";
const GROUP_FIELDS = `group { id } ${ERRORS}`;
const CREATE = `
mutation CreateGroup($input: CreateGroupInput!, $locale: String) {
  createGroup(input: $input) {
    group { id title(locale: $locale) } ${ERRORS}
  }
}`;
const UPDATE = `
mutation UpdateGroup($id: ID!, $input: UpdateGroupInput!) {
  updateGroup(id: $id, input: $input) { ${GROUP_FIELDS} }
}`;
const DELETE = `
mutation DeleteGroup($id: ID!) {
  deleteGroup(id: $id) { deletedId membershipsRemovedCount ${ERRORS} }
}`;
const PENDING = `
query Pending($groupId: ID!) {
  invitations(filter: { groupId: $groupId, status: PENDING }, first: 1) { totalCount }
}`;
const MEMBERS = `
query Members($id: ID!, $first: Int!, $after: String, $search: String) {
  group(id: $id) { id memberPage(first: $first, after: $after, search: $search) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id email firstName lastName } }
  } }
}`;
const ADD = `
mutation AddMembers($groupId: ID!, $emails: [String!]!) {
  addGroupMembers(groupId: $groupId, emails: $emails) { ${GROUP_FIELDS} }
}`;
const REMOVE = `
mutation RemoveMembers($groupId: ID!, $userIds: [ID!]!) {
  removeGroupMembers(groupId: $groupId, userIds: $userIds) { ${GROUP_FIELDS} }
}`;

const problem = $("problem");
const done = $("done");
let fields = [];

// ---------------------------------------------------------------------------------------------
// The list

const kindText = (group) =>
  group.kind === "MANUAL" ? t("admin.groups.kind_manual") : t("admin.groups.kind_smart");

// What each attribute can be compared with, as the API allows it (a registration field's by
// its type): an operator that makes no sense for it is not offered.
const OPERATORS = {
  EMAIL_DOMAIN: ["IS", "IS_NOT", "IS_ONE_OF", "ENDS_WITH"],
  LOCALE: ["IS", "IS_NOT", "IS_ONE_OF"],
  ROLE: ["IS", "IS_NOT"],
  TEXT: ["IS", "IS_NOT", "IS_ONE_OF"],
  SELECT: ["IS", "IS_NOT", "IS_ONE_OF"],
  CHECKBOX: ["IS"],
  NUMBER: ["IS", "IS_NOT", "GREATER_THAN", "LESS_THAN"],
  DATE: ["IS", "IS_NOT", "GREATER_THAN", "LESS_THAN"],
};

const fieldOf = (key) => fields.find((field) => field.key === key);

const operatorsOf = (attribute, fieldKey) =>
  OPERATORS[attribute === "FIELD" ? fieldOf(fieldKey)?.type || "TEXT" : attribute];

/** The values a rule picks from, each {value, label} (the value as the API stores it, the
 * label in the page's language), or null where the value is typed. */
const choicesOf = (attribute, fieldKey) => {
  if (attribute === "LOCALE") {
    return Object.entries(languageNames()).map(([value, label]) => ({ value, label }));
  }
  if (attribute === "ROLE") {
    return ["admin", "project_manager"].map((value) => ({
      value,
      label: t(`admin.groups.role_${value}`),
    }));
  }
  const field = attribute === "FIELD" ? fieldOf(fieldKey) : null;
  if (field?.type === "SELECT") {
    return field.options.map((option) => ({ value: option.key, label: option.title }));
  }
  if (field?.type === "CHECKBOX") {
    return [
      { value: "true", label: t("admin.lists.yes") },
      { value: "false", label: t("admin.lists.no") },
    ];
  }
  return null;
};

/** A rule's stored value (JSON) as a list of texts. */
const valuesOf = (json) => {
  let value;
  try {
    value = JSON.parse(json);
  } catch {
    return [json];
  }
  return (Array.isArray(value) ? value : [value]).map(String);
};

/** A rule in the page's language: "Email domain is one of a.org, b.org"; a value picked from
 * choices by its label ("Neighbourhood is Riverside"). */
const ruleText = (rule) => {
  const what =
    rule.attribute === "FIELD"
      ? fieldOf(rule.fieldKey)?.title || rule.fieldKey
      : t(`admin.groups.attr_${rule.attribute.toLowerCase()}`);
  const choices = choicesOf(rule.attribute, rule.fieldKey);
  const value = choices
    ? valuesOf(rule.value)
        .map((item) => choices.find((choice) => choice.value === item)?.label || item)
        .join(", ")
    : valueText(rule.value);
  return `${what} ${t(`admin.groups.op_${rule.operator.toLowerCase()}`)} ${value}`;
};

const groupCard = (group) => {
  const card = el("li", "", { class: "card", "data-id": group.id });
  const headingId = `group-${group.id}`;
  // Focusable by the page (tabindex -1, not in the tab order): a new group's heading gets the
  // focus once it is made.
  card.append(el("h3", group.title, { id: headingId, tabindex: "-1" }));
  card.append(
    el("p", `${kindText(group)} · ${plural("admin.groups.member_count", group.memberCount)}`, {
      class: "member-count",
    }),
  );
  if (group.kind === "SMART" && group.rules.length) {
    const rules = el("ul", "", { class: "rules" });
    for (const rule of group.rules) {
      rules.append(el("li", ruleText(rule)));
    }
    card.append(
      el(
        "p",
        `${t("admin.groups.match")} ${t(group.matchAll ? "admin.groups.match_all" : "admin.groups.match_any")}`,
      ),
      rules,
    );
  }
  // Its invitations, on the All invitations page (in the page's language).
  const list = new URLSearchParams({ groupId: group.id });
  const lang = new URLSearchParams(window.location.search).get("lang");
  if (lang) {
    list.set("lang", lang);
  }
  const invitations = el("p", "", { class: "group-invitations" });
  invitations.append(
    el("a", t("admin.groups.invitations_link"), {
      href: `${ROOT}/admin/invitations?${list}`,
      "aria-label": t("admin.groups.invitations_of", { group: group.title }),
    }),
  );
  card.append(invitations);
  const actions = el("div", "", { class: "row-actions" });
  if (group.kind === "MANUAL") {
    actions.append(
      button(t("admin.groups.members"), () => openMembers(group), {
        label: t("admin.groups.members_of", { group: group.title }),
      }),
    );
    actions.lastElementChild.dataset.action = "members";
  }
  const smart = group.kind === "SMART";
  actions.append(
    button(t(smart ? "admin.groups.edit" : "admin.groups.rename"), () => openEdit(group), {
      className: "secondary",
      label: t(smart ? "admin.groups.edit_of" : "admin.groups.rename_of", { group: group.title }),
    }),
    button(t("admin.groups.delete"), () => deleteGroup(group), {
      className: "danger",
      label: t("admin.groups.delete_of", { group: group.title }),
    }),
  );
  actions.lastElementChild.previousElementSibling.dataset.action = "edit";
  card.append(actions);
  return card;
};

/** After the list is built again: the focus on a group's control (the one that opened a
 * dialog, whose button was replaced; `selector` within the group's card, its heading for a new
 * group), else on the list's heading. */
const focusGroup = (id, selector) => {
  const control = $("groups").querySelector(`li[data-id="${CSS.escape(String(id))}"] ${selector}`);
  (control || $("list-title")).focus();
};

const load = async () => {
  const list = $("groups");
  try {
    const data = await graphql(GROUPS, { locale: LOCALE });
    fields = data.registrationFields;
    list.replaceChildren(...data.groups.map(groupCard));
    $("empty").hidden = data.groups.length > 0;
  } catch (error) {
    showFailure(problem, error);
  } finally {
    list.removeAttribute("aria-busy");
  }
};

// ---------------------------------------------------------------------------------------------
// A new group

const newForm = $("new-group");
const rulesBox = $("rules-box");
let ruleCount = 0;

/** The operators a rule's row offers: those its attribute (its field's type) allows. */
const showOperators = (row) => {
  const attribute = row.querySelector("[data-name=attribute]").value;
  const operator = row.querySelector("[data-name=operator]");
  const allowed = operatorsOf(attribute, row.querySelector("[data-name=fieldKey]").value);
  const current = operator.value;
  operator.replaceChildren(
    ...allowed.map((name) => el("option", t(`admin.groups.op_${name.toLowerCase()}`), { value: name })),
  );
  operator.value = allowed.includes(current) ? current : allowed[0];
};

/** A rule's value control: a text input, or where the value is one of known choices a
 * select (one value) or a check box per choice (is one of); what was given stays given. */
const showValue = (row, given = null) => {
  const box = row.querySelector("[data-value-box]");
  const old = box.querySelector("[data-name=value]");
  const id = old.id;
  const before =
    given ??
    (old.tagName === "FIELDSET"
      ? Array.from(old.querySelectorAll("input:checked"), (input) => input.value)
      : old.value
          .split(",")
          .map((item) => item.trim())
          .filter(Boolean));
  const attribute = row.querySelector("[data-name=attribute]").value;
  const choices = choicesOf(attribute, row.querySelector("[data-name=fieldKey]").value);
  const many = row.querySelector("[data-name=operator]").value === "IS_ONE_OF";
  const label = t("admin.groups.rule_value");
  let control;
  if (!choices) {
    control = el("input", "", { type: "text", "data-name": "value", id });
    control.value = before.join(", ");
    box.replaceChildren(el("label", label, { for: id }), control);
  } else if (many) {
    control = el("fieldset", "", { "data-name": "value", id, class: "choices" });
    control.append(el("legend", label));
    choices.forEach((choice, index) => {
      const check = el("div", "", { class: "check" });
      const input = el("input", "", { type: "checkbox", id: `${id}-${index}`, value: choice.value });
      input.checked = before.includes(choice.value);
      check.append(input, el("label", choice.label, { for: input.id }));
      control.append(check);
    });
    box.replaceChildren(control);
  } else {
    control = el("select", "", { "data-name": "value", id });
    control.append(...choices.map((choice) => el("option", choice.label, { value: choice.value })));
    if (choices.some((choice) => choice.value === before[0])) {
      control.value = before[0];
    }
    box.replaceChildren(el("label", label, { for: id }), control);
  }
};

const showRuleValue = (row) => {
  const attribute = row.querySelector("[data-name=attribute]").value;
  row.querySelector("[data-field-key]").hidden = attribute !== "FIELD";
  showOperators(row);
  showValue(row, []);
};

/** A rule's value as typed: JSON text, a list comma-separated. */
const valueText = (json) => {
  let value;
  try {
    value = JSON.parse(json);
  } catch {
    return json;
  }
  return Array.isArray(value) ? value.join(", ") : String(value);
};

const addRule = (container = $("rules"), rule = null) => {
  ruleCount += 1;
  const row = $("rule-template").content.firstElementChild.cloneNode(true);
  for (const label of row.querySelectorAll("label[data-for]")) {
    const control = row.querySelector(`[data-name=${label.dataset.for}]`);
    control.id = `rule-${ruleCount}-${label.dataset.for}`;
    label.htmlFor = control.id;
  }
  const fieldKey = row.querySelector("[data-name=fieldKey]");
  for (const field of fields) {
    fieldKey.append(el("option", field.title, { value: field.key }));
  }
  if (rule) {
    row.querySelector("[data-name=attribute]").value = rule.attribute;
    if (rule.fieldKey) {
      fieldKey.value = rule.fieldKey;
    }
    row.querySelector("[data-field-key]").hidden = rule.attribute !== "FIELD";
    showOperators(row);
    row.querySelector("[data-name=operator]").value = rule.operator;
    showValue(row, valuesOf(rule.value));
  } else {
    showRuleValue(row);
  }
  row.querySelector("[data-name=attribute]").addEventListener("change", () => showRuleValue(row));
  fieldKey.addEventListener("change", () => {
    showOperators(row);
    showValue(row, []);
  });
  row.querySelector("[data-name=operator]").addEventListener("change", () => showValue(row));
  row.querySelector("[data-remove]").addEventListener("click", () => {
    row.remove();
    container.parentElement.querySelector("button[id$=add-rule]").focus();
  });
  container.append(row);
  return row;
};

$("add-rule").addEventListener("click", () => addRule().querySelector("select").focus());
$("edit-add-rule").addEventListener("click", () =>
  addRule($("edit-rules")).querySelector("select").focus(),
);

for (const radio of newForm.querySelectorAll("input[name=kind]")) {
  radio.addEventListener("change", () => {
    rulesBox.hidden = newForm.elements.kind.value !== "SMART";
    if (!rulesBox.hidden && !$("rules").children.length) {
      addRule();
    }
  });
}

// Which control of a rule's row a problem with it is about.
const RULE_CONTROLS = {
  UNKNOWN_ATTRIBUTE: "attribute",
  UNKNOWN_OPERATOR: "operator",
  OPERATOR_NOT_ALLOWED: "operator",
  RULE_FIELD_UNKNOWN: "fieldKey",
};

/** The input a problem of a group's form is about: a title, or a control of a rule. */
const problemInput = (form, rules) => (problem) => {
  if (problem.field === "rules" && problem.position !== null && problem.position !== undefined) {
    const row = rules.querySelectorAll(".rule-row")[problem.position];
    const control = row?.querySelector(`[data-name=${RULE_CONTROLS[problem.reason] || "value"}]`);
    // A check box per choice: the problem is said at the first.
    return control?.tagName === "FIELDSET" ? control.querySelector("input") : control || null;
  }
  return titleInput(form, problem.field);
};

/** A warning after saving: the languages the group has no title in. */
const titleWarning = (form, title) =>
  missingTitles(
    [
      {
        name: quoted(title),
        inputs: Object.fromEntries(
          Array.from(form.querySelectorAll("input[data-title-locale]"), (input) => [
            input.dataset.titleLocale,
            input,
          ]),
        ),
      },
    ],
    (language, items, first) => t("admin.lists.missing_title", { language, items, first }),
  );

/** The title a group needs: the one in the platform's default language. */
const titleNeeded = (input) =>
  t("admin.groups.title_needed_in", { language: input.dataset.language });

const rulesOf = (container = $("rules")) =>
  Array.from(container.querySelectorAll(".rule-row"), (row) => {
    const value = (name) => row.querySelector(`[data-name=${name}]`).value;
    const rule = { attribute: value("attribute"), operator: value("operator") };
    const control = row.querySelector("[data-name=value]");
    if (control.tagName === "FIELDSET") {
      rule.values = Array.from(control.querySelectorAll("input:checked"), (input) => input.value);
    } else {
      rule.value = control.value;
    }
    if (rule.attribute === "FIELD") {
      rule.fieldKey = value("fieldKey");
    }
    return rule;
  });

/** A rule's problems as the page says them: a value that is none of a field's options lists
 * them, in the page's language. */
const withChoices = (errors, container) =>
  errors.map((problem) => {
    if (problem.reason !== "NOT_AN_OPTION" || typeof problem.position !== "number") {
      return problem;
    }
    const row = container.querySelectorAll(".rule-row")[problem.position];
    const choices = row
      ? choicesOf("FIELD", row.querySelector("[data-name=fieldKey]").value) || []
      : [];
    // The option refused (gone since the page was loaded) by its title, and not among those
    // that are left.
    const refused = choices.find((choice) => choice.value === problem.value);
    return {
      ...problem,
      value: refused ? refused.label : problem.value,
      choices: choices.filter((choice) => choice !== refused).map((choice) => quoted(choice.label)),
    };
  });

newForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const submit = newForm.querySelector("button[type=submit]");
  busy(submit, async () => {
    say($("new-problem"), "");
    say(done, "");
    clearProblems(newForm);
    const title = newForm.querySelector("[data-default-title]");
    if (!title.value.trim()) {
      markInvalid(title, titleNeeded(title));
      title.focus();
      return;
    }
    const kind = newForm.elements.kind.value;
    const input = {
      title: title.value.trim(),
      titles: titleInputs(newForm).filter((item) => item.text),
      kind,
      rules: kind === "SMART" ? rulesOf() : [],
      matchAll: $("match").value === "all",
    };
    try {
      const { createGroup } = await graphql(CREATE, { input, locale: LOCALE });
      if (
        showProblems($("new-problem"), withChoices(createGroup.errors, $("rules")), {
          at: problemInput(newForm, $("rules")),
          within: newForm,
        })
      ) {
        return;
      }
      const warning = titleWarning(newForm, input.title);
      newForm.reset();
      $("rules").replaceChildren();
      rulesBox.hidden = true;
      await load();
      // The focus on the new group in the list (its heading: its link and buttons follow),
      // then the status: said after the heading, not cut short by the focus moving.
      focusGroup(createGroup.group.id, "h3");
      say(
        done,
        [t("admin.groups.created", { group: createGroup.group.title }), warning]
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
// Titles

const editDialog = $("edit");
const editForm = $("edit-form");
let editing = null;

const openEdit = (group) => {
  editing = group;
  say($("edit-problem"), "");
  clearProblems(editForm);
  editForm.querySelector("[data-default-title]").value = group.titles[0]?.text || group.title;
  showTitles(editForm, group.titles.slice(1));
  const smart = group.kind === "SMART";
  $("edit-title").textContent = t(smart ? "admin.groups.edit_of" : "admin.groups.rename_of", {
    group: group.title,
  });
  $("edit-rules-box").hidden = !smart;
  $("edit-rules").replaceChildren();
  if (smart) {
    $("edit-match").value = group.matchAll ? "all" : "any";
    for (const rule of group.rules) {
      addRule($("edit-rules"), rule);
    }
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
      markInvalid(titleBox, titleNeeded(titleBox));
      titleBox.focus();
      return;
    }
    try {
      const input = { title, titles: titleInputs(editForm) };
      if (editing.kind === "SMART") {
        input.rules = rulesOf($("edit-rules"));
        input.matchAll = $("edit-match").value === "all";
      }
      const { updateGroup } = await graphql(UPDATE, { id: editing.id, input });
      if (
        showProblems($("edit-problem"), withChoices(updateGroup.errors, $("edit-rules")), {
          at: problemInput(editForm, $("edit-rules")),
          within: editForm,
        })
      ) {
        return;
      }
      const warning = titleWarning(editForm, title);
      editDialog.close();
      await load();
      // The focus back on the group's button (built again), then the status, as after a new
      // group: said after the button, not cut short by the focus moving.
      focusGroup(editing.id, "[data-action=edit]");
      say(done, [t("admin.lists.saved"), warning].filter(Boolean).join(" "), "success");
    } catch (error) {
      showFailure($("edit-problem"), error);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Deleting

const deleteGroup = async (group) => {
  say(done, "");
  let pending = 0;
  try {
    pending = (await graphql(PENDING, { groupId: group.id })).invitations.totalCount;
  } catch (error) {
    showFailure(problem, error);
    return;
  }
  const text = [
    t("admin.groups.delete_text", { group: group.title }),
    plural("admin.groups.delete_members", group.memberCount),
    pending ? plural("admin.groups.delete_pending", pending) : "",
  ]
    .filter(Boolean)
    .join(" ");
  const confirmed = await confirmAction($("confirm"), {
    title: t("admin.groups.delete_title", { group: group.title }),
    text,
    confirm: t("admin.groups.delete"),
  });
  if (!confirmed) {
    return;
  }
  try {
    const { deleteGroup: deleted } = await graphql(DELETE, { id: group.id });
    if (showProblems(problem, deleted.errors)) {
      return;
    }
    say(done, t("admin.groups.deleted", { group: group.title }), "success");
    await load();
    $("list-title").focus();
  } catch (error) {
    showFailure(problem, error);
  }
};

// ---------------------------------------------------------------------------------------------
// Members of a manual group

const membersDialog = $("members");
const members = { group: null, cursors: [null], page: 0 };

const loadMembers = async () => {
  say($("members-problem"), "");
  let page;
  try {
    const data = await graphql(MEMBERS, {
      id: members.group.id,
      first: MEMBERS_PAGE,
      after: members.cursors[members.page],
      search: $("member-search").value.trim() || null,
    });
    page = data.group?.memberPage;
  } catch (error) {
    showFailure($("members-problem"), error);
    return;
  }
  if (!page) {
    membersDialog.close();
    await load();
    return;
  }
  members.cursors[members.page + 1] = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  $("members-count").textContent = plural("admin.groups.member_count", page.totalCount);
  const rows = page.edges.map(({ node }) => {
    const name = [node.firstName, node.lastName].filter(Boolean).join(" ");
    const row = el("tr");
    row.append(
      el("td", name, { "data-label": t("admin.groups.member_name") }),
      el("td", node.email, { "data-label": t("admin.groups.member_email"), class: "email" }),
    );
    const actions = el("td", "", { "data-label": t("admin.invitations.col_actions") });
    actions.append(
      button(t("admin.groups.remove_member"), (event) => removeMember(event.currentTarget, node), {
        className: "secondary",
        label: t("admin.groups.remove_member_of", { who: node.email }),
      }),
    );
    row.append(actions);
    return row;
  });
  $("member-list").querySelector("tbody").replaceChildren(...rows);
  $("members-previous").disabled = members.page === 0;
  $("members-next").disabled = !page.pageInfo.hasNextPage;
};

const openMembers = async (group) => {
  members.group = group;
  $("members-done").textContent = "";
  members.cursors = [null];
  members.page = 0;
  $("members-title").textContent = t("admin.groups.members_of", { group: group.title });
  $("member-emails").value = "";
  clearProblems($("add-members"));
  $("member-search").value = "";
  $("member-list").querySelector("tbody").replaceChildren();
  membersDialog.showModal();
  $("member-emails").focus();
  await loadMembers();
};

// Closed (Close or Escape): the counts are read again, and the focus goes back to the group's
// Members button (the list is built again, that button with it).
membersDialog.addEventListener("close", async () => {
  await load();
  focusGroup(members.group.id, "[data-action=members]");
});
let memberSearchTimer = 0;
$("member-search").addEventListener("input", () => {
  window.clearTimeout(memberSearchTimer);
  memberSearchTimer = window.setTimeout(() => {
    members.cursors = [null];
    members.page = 0;
    loadMembers();
  }, 300);
});
membersDialog.querySelector("[data-close]").addEventListener("click", () => membersDialog.close());
$("members-next").addEventListener("click", () => {
  members.page += 1;
  loadMembers();
});
$("members-previous").addEventListener("click", () => {
  members.page = Math.max(0, members.page - 1);
  loadMembers();
});

$("add-members").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("member-emails");
  busy(event.submitter || input, async () => {
    const emails = input.value
      .split(/[,;\s]+/)
      .map((item) => item.trim())
      .filter(Boolean);
    say($("members-problem"), "");
    clearProblems($("add-members"));
    if (!emails.length) {
      markInvalid(input, t("admin.groups.type_emails"));
      input.focus();
      return;
    }
    try {
      const { addGroupMembers } = await graphql(ADD, { groupId: members.group.id, emails });
      const several = emails.length > 1;
      if (
        showProblems($("members-problem"), addGroupMembers.errors, {
          at: (problem) => (problem.field === "emails" ? input : null),
          // Which of the addresses typed: the words of an INVALID_EMAIL do not name it.
          prefix: (problem) =>
            several && problem.field === "emails" && problem.code === "INVALID_EMAIL"
              ? `${quoted(problem.value)}${LOCALE.startsWith("fr") ? " :" : ":"} `
              : "",
        })
      ) {
        return;
      }
      input.value = "";
      $("members-count").textContent = "";
      await loadMembers();
      // Said inside the dialog: the page behind it is inert while it is open.
      $("members-done").textContent = plural("admin.groups.added", emails.length, {
        who: emails.join(", "),
      });
    } catch (error) {
      showFailure($("members-problem"), error);
    }
  });
});

/** Remove a member once the admin confirmed; then say who left, and put the focus on the
 * next member's Remove button (the previous one's at the end of the page, else the search). */
const removeMember = async (control, user) => {
  const who = [user.firstName, user.lastName].filter(Boolean).join(" ") || user.email;
  const group = members.group.title;
  $("members-done").textContent = "";
  const confirmed = await confirmAction($("confirm"), {
    title: t("admin.groups.remove_title", { who, group }),
    text: t("admin.groups.remove_text", { who: user.email, group }),
    confirm: t("admin.groups.remove_member"),
  });
  if (!confirmed) {
    return;
  }
  const buttons = () => [...$("member-list").querySelectorAll("tbody button")];
  const position = buttons().indexOf(control);
  await busy(control, async () => {
    try {
      const { removeGroupMembers } = await graphql(REMOVE, {
        groupId: members.group.id,
        userIds: [user.id],
      });
      if (showProblems($("members-problem"), removeGroupMembers.errors)) {
        return;
      }
      await loadMembers();
      $("members-done").textContent = t("admin.groups.removed", { who: user.email, group });
      const left = buttons();
      (left[Math.min(position, left.length - 1)] || $("member-search")).focus();
    } catch (error) {
      showFailure($("members-problem"), error);
    }
  });
};


load();

// The button comes disabled (before this script, a click or Enter would send the form the
// browser's way, with what was typed in the address): it works from here on.
$("new-group-submit").disabled = false;
