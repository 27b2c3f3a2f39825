// Reviews: the words due now, one card at a time; the answer on reveal, then
// the four FSRS ratings. Keys: Space or Enter shows the answer, 1-4 rate.

import { api, uuid } from "./api.js";
import { announce, chooser, errorBox, h, languageName, prefs, report, show } from "./dom.js";

const RATINGS = [
  ["again", "Again", "1"],
  ["hard", "Hard", "2"],
  ["good", "Good", "3"],
  ["easy", "Easy", "4"],
];

export async function reviews() {
  const heading = show("Reviews");
  const language = prefs.language;
  const card = h("section", { class: "card review", "aria-live": "polite" });
  const problems = h("div", { class: "problems" });
  heading.after(
    await chooser(),
    h("p", { class: "meta" }, `Your ${languageName(language)} words due now. Keys: Space shows the answer, 1–4 rate it.`),
    card,
    problems,
  );
  let due;
  try {
    due = await api(`/api/reviews?language=${encodeURIComponent(language)}&limit=50`);
  } catch (error) {
    card.replaceChildren(errorBox(error));
    return;
  }
  let index = 0;
  let revealed = false;
  let busy = false;
  let done = 0;

  function render() {
    report(problems, null);
    const item = due[index];
    if (!item) {
      card.replaceChildren(
        h("p", { class: "done" }, done ? `Done: ${done} reviewed. Nothing else is due.` : "Nothing is due now."),
        h("p", {}, h("a", { href: "#/progress" }, "See your progress")),
      );
      return;
    }
    const answer = h(
      "div",
      { class: "answer", hidden: !revealed },
      h("p", {}, item.translation || ""),
      h(
        "div",
        { class: "ratings", role: "group", "aria-label": "How well did you know it?" },
        RATINGS.map(([rating, label, key]) =>
          h("button", { type: "button", class: `rate-${rating}`, "aria-keyshortcuts": key, onclick: () => rate(rating) }, `${label} (${key})`),
        ),
      ),
    );
    const reveal = h(
      "button",
      { type: "button", class: "primary", "aria-keyshortcuts": "Space", hidden: revealed, onclick: showAnswer },
      "Show answer",
    );
    card.replaceChildren(
      h("p", { class: "meta" }, `${index + 1} of ${due.length}`),
      h("p", { class: "lemma", lang: language }, h("strong", {}, item.lemma)),
      h("p", { lang: language }, item.sentence || ""),
      reveal,
      answer,
    );
    (revealed ? answer.querySelector(".rate-good") : reveal).focus();
  }

  function showAnswer() {
    revealed = true;
    render();
  }

  async function rate(rating) {
    if (busy) return;
    busy = true;
    const item = due[index];
    try {
      const result = await api("/api/reviews", {
        method: "POST",
        body: { word_id: item.word_id, rating, review_id: uuid() },
      });
      done += 1;
      index += 1;
      revealed = false;
      announce(`${item.lemma}: ${rating}, next due ${new Date(result.due).toLocaleDateString()}`);
      render();
    } catch (error) {
      report(problems, error);
    } finally {
      busy = false;
    }
  }

  function keys(event) {
    if (event.target.closest("input, select, textarea") || event.altKey || event.ctrlKey || event.metaKey) return;
    if (!due[index]) return;
    if (!revealed && (event.key === " " || event.key === "Enter")) {
      event.preventDefault();
      showAnswer();
    } else if (revealed) {
      const rating = RATINGS.find(([, , key]) => key === event.key);
      if (rating) {
        event.preventDefault();
        rate(rating[0]);
      }
    }
  }

  document.addEventListener("keydown", keys);
  render();
  return () => document.removeEventListener("keydown", keys);
}
