/* The options every invitation of a batch carries (api/templates/admin/_options.html): the
 * projects and manual groups to choose from, and what the admin chose. */

import { $, checkboxes, checkedValues, graphql, sayFailure, t } from "./client.js";

const CHOICES = `query AdminChoices($locale: String) {
  projects { id title }
  groups { id kind title(locale: $locale) }
}`;

/** Fill the projects and manual groups of the options with `prefix`; resolves to the groups. */
export const loadChoices = async (prefix, locale) => {
  const projectsBox = $(`${prefix}-projects`);
  const groupsBox = $(`${prefix}-groups`);
  try {
    const data = await graphql(CHOICES, { locale });
    const manual = data.groups.filter((group) => group.kind === "MANUAL");
    checkboxes(
      projectsBox,
      `${prefix}-project`,
      data.projects.map((project) => ({ id: project.id, label: project.title })),
      t("admin.options.no_projects"),
    );
    checkboxes(
      groupsBox,
      `${prefix}-group`,
      manual.map((group) => ({ id: group.id, label: group.title })),
      t("admin.options.no_groups"),
    );
    return manual;
  } catch (error) {
    sayFailure(groupsBox, error);
    return [];
  }
};

/** InvitationOptionsInput as chosen in the options with `prefix`. */
export const readOptions = (prefix) => {
  const root = $(`${prefix}-options`);
  const options = {
    admin: $(`${prefix}-admin`).checked,
    projectIds: checkedValues(root, `${prefix}-project`),
    groupIds: checkedValues(root, `${prefix}-group`),
    locale: $(`${prefix}-locale`).value,
  };
  const message = $(`${prefix}-message`);
  if (message) {
    options.personalMessage = message.value;
  }
  const send = $(`${prefix}-send`);
  if (send) {
    options.sendEmail = send.checked;
  }
  return options;
};

/** Put the options with `prefix` back as the page first showed them (nothing granted, the
 * console's language, no message, mailed). */
export const resetOptions = (prefix) => {
  const root = $(`${prefix}-options`);
  for (const box of root.querySelectorAll("input[type=checkbox]")) {
    box.checked = box.defaultChecked;
  }
  for (const select of root.querySelectorAll("select")) {
    select.selectedIndex = Math.max(0, [...select.options].findIndex((o) => o.defaultSelected));
  }
  for (const text of root.querySelectorAll("textarea")) {
    text.value = text.defaultValue;
  }
};

/** The titles of the projects ticked in the options with `prefix`. */
export const chosenProjects = (prefix) =>
  [...$(`${prefix}-options`).querySelectorAll(`input[name="${prefix}-project"]:checked`)].map(
    (box) => box.labels[0].textContent,
  );
