// The reader's entry point: signing in and out, and the views by address
// (#/, #/story/ID, #/reviews, #/progress, #/digests, #/digest/ID). The
// address never carries a token.

import * as client from "./api.js";
import { api } from "./api.js";
import { digest, digests } from "./digests.js";
import {
  announce,
  errorBox,
  field,
  go,
  h,
  languageLists,
  languageName,
  LEVELS,
  main,
  prefs,
  report,
  select,
  show,
} from "./dom.js";
import { progress } from "./progress.js";
import { reviews } from "./reviews.js";
import { story } from "./story.js";

const views = { "": home, story, reviews, progress, digests, digest };

let leave = () => {};

// Each view may return a function that tidies up when the learner leaves it
// (an open events stream, playing audio).
export async function route() {
  leave();
  leave = () => {};
  const nav = document.getElementById("nav");
  if (!client.signedIn()) {
    nav.hidden = true;
    signInView();
    return;
  }
  nav.hidden = false;
  const [name, ...args] = location.hash.replace(/^#\/?/, "").split("/");
  for (const link of nav.querySelectorAll("a")) {
    const current = link.getAttribute("href") === `#/${name}`;
    link.toggleAttribute("aria-current", current);
    if (current) link.setAttribute("aria-current", "page");
  }
  const view = views[name] || home;
  try {
    const done = await view(...args);
    if (typeof done === "function") leave = done;
  } catch (error) {
    show("Something went wrong", errorBox(error));
  }
}

function signInView() {
  const username = h("input", { name: "username", autocomplete: "username", required: true });
  const password = h("input", {
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const problems = h("div", { class: "problems" });
  const busy = (on) => {
    for (const button of form.querySelectorAll("button")) button.disabled = on;
  };
  const act = (action, note) => async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    report(problems, null);
    busy(true);
    try {
      await action(username.value, password.value);
      announce(note);
      go("#/");
    } catch (error) {
      report(problems, error);
      busy(false);
    }
  };
  const form = h(
    "form",
    { class: "card", onsubmit: act(client.signIn, "Signed in") },
    field("Username", username),
    field("Password", password, "New here? Choose a username and a passphrase, then Create account."),
    problems,
    h(
      "p",
      { class: "actions" },
      h("button", { type: "submit", class: "primary" }, "Sign in"),
      h("button", { type: "button", onclick: act(client.register, "Account created") }, "Create account"),
    ),
  );
  show("Read a story in the language you are learning", form);
}

async function home() {
  const heading = show("Your stories");
  const problems = h("div", { class: "problems" });
  const list = h("ul", { class: "stories", "aria-label": "Your stories" });
  const more = h("p");
  heading.after(await newStoryForm(), h("h3", {}, "Continue a story"), problems, list, more);

  const load = async (page) => {
    report(problems, null);
    try {
      const data = await api(`/api/adventures?page=${page}`);
      if (!data.results.length && page === 1) list.replaceChildren(h("li", {}, "No stories yet: start one above."));
      list.append(...data.results.map(storyItem));
      more.replaceChildren(
        data.next
          ? h("button", { type: "button", onclick: () => load(page + 1) }, "More stories")
          : "",
      );
    } catch (error) {
      report(problems, error);
    }
  };
  await load(1);
}

function storyItem(adventure) {
  const title = adventure.title || `A story about ${adventure.theme || "anything"}`;
  const passages = adventure.entries.length;
  return h(
    "li",
    {},
    h("a", { href: `#/story/${adventure.id}` }, title),
    h(
      "span",
      { class: "meta" },
      ` ${languageName(adventure.target_language)} · ${adventure.level} · ${passages} passage${passages === 1 ? "" : "s"} · ${adventure.status.replace(/_/g, " ")}`,
    ),
  );
}

async function newStoryForm() {
  const languages = await languageLists();
  const language = select(
    "target_language",
    languages.target_languages.map((l) => [l.code, l.name]),
    prefs.language,
  );
  const native = select(
    "native_language",
    languages.native_languages.map((l) => [l.code, l.name]),
    localStorage.getItem("langlearn.native") || "en",
  );
  const level = select("level", LEVELS.map((l) => [l, l]), prefs.level);
  const theme = h("input", { name: "theme", maxlength: "200", placeholder: "the sea, a heist, space…" });
  const problems = h("div", { class: "problems" });
  const form = h(
    "form",
    {
      class: "card",
      "aria-label": "Start a story",
      onsubmit: async (event) => {
        event.preventDefault();
        report(problems, null);
        const button = form.querySelector("button");
        button.disabled = true;
        prefs.language = language.value;
        prefs.level = level.value;
        localStorage.setItem("langlearn.native", native.value);
        try {
          const adventure = await api("/api/adventures", {
            method: "POST",
            body: {
              target_language: language.value,
              native_language: native.value,
              level: level.value,
              theme: theme.value.trim(),
            },
          });
          go(`#/story/${adventure.id}`);
        } catch (error) {
          report(problems, error);
          button.disabled = false;
        }
      },
    },
    h("h3", {}, "Start a story"),
    h(
      "div",
      { class: "row" },
      field("Language", language),
      field("Level", level),
      field("Translations in", native),
    ),
    field("Theme", theme, "Optional: what the story is about."),
    problems,
    h("p", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Start")),
  );
  return form;
}

client.whenSignedOut(() => {
  announce("Signed out");
  route();
});

document.getElementById("sign-out").addEventListener("click", async () => {
  await client.signOut();
  announce("Signed out");
  go("#/");
});

window.addEventListener("hashchange", route);
window.addEventListener("reader:route", route);

await client.resume();
main().focus();
route();
