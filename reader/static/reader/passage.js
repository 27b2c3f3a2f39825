// A passage to read: a story's entry or a news digest, the same way. Every
// word is a button (one tab stop for the passage, arrow keys between words);
// each sentence has its translation and its audio a tap away.

import { api } from "./api.js";
import { announce, errorBox, h, report } from "./dom.js";

const STATUSES = [
  ["new", "New"],
  ["learning", "Learning"],
  ["known", "Known"],
  ["ignored", "Ignored"],
];

const POS = {
  ADJ: "adjective",
  ADP: "preposition",
  ADV: "adverb",
  AUX: "auxiliary verb",
  CCONJ: "conjunction",
  DET: "determiner",
  INTJ: "interjection",
  NOUN: "noun",
  NUM: "number",
  PART: "particle",
  PRON: "pronoun",
  PROPN: "proper noun",
  SCONJ: "conjunction",
  VERB: "verb",
  X: "other",
};

const QUIET = new Set(["PUNCT", "SYM", "SPACE"]);

function clock(ms) {
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

// data: the entry or digest as the API gives it; language: its language;
// reload(): the same, read again; knownPath: the entry's "mark the rest as
// known" endpoint (entries only). Returns { element, stop }.
export function passage({ data, language, reload, knownPath }) {
  let current = data;
  const words = [];
  const figures = h("div", { class: "figures", "aria-live": "polite" });
  const problems = h("div", { class: "problems" });
  const panel = h("section", { class: "word-panel", "aria-label": "Word", hidden: true, lang: "en" });
  const sentences = [];
  const text = h("div", { class: "passage", lang: language });

  current.sentences.forEach((sentence, index) => {
    const line = h("p", { class: "sentence", "data-index": index });
    let cursor = 0;
    const body = h("span", { class: "words" });
    for (const [position, token] of current.tokens.entries()) {
      if (token.sentence !== index) continue;
      const at = sentence.text.indexOf(token.text, cursor);
      if (at > cursor) body.append(sentence.text.slice(cursor, at));
      if (at >= 0) cursor = at + token.text.length;
      else body.append(" ");
      if (QUIET.has(token.pos)) {
        body.append(token.text);
        continue;
      }
      const word = h(
        "button",
        { type: "button", class: "w", tabindex: words.length ? "-1" : "0", "data-token": position },
        token.text,
      );
      words.push(word);
      body.append(word);
    }
    body.append(sentence.text.slice(cursor));
    const translation = h("span", { class: "translation", lang: "", hidden: true }, sentence.translation || "");
    const translate = h(
      "button",
      {
        type: "button",
        class: "icon",
        "aria-expanded": "false",
        "aria-label": `Translation of sentence ${index + 1}`,
        onclick: () => {
          const open = translation.hidden;
          translation.hidden = !open;
          translate.setAttribute("aria-expanded", String(open));
        },
      },
      "⇄",
    );
    const hear = h(
      "button",
      {
        type: "button",
        class: "icon",
        "aria-label": `Play sentence ${index + 1}`,
        disabled: sentence.start_ms === null || !current.audio,
        onclick: () => player.sentence(index),
      },
      "▶",
    );
    line.append(hear, " ", body, " ", translate, translation);
    sentences.push(line);
    text.append(line);
  });

  // One tab stop: arrow keys move between the words.
  text.addEventListener("keydown", (event) => {
    const index = words.indexOf(document.activeElement);
    if (index < 0) return;
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
    const to = event.key === "Home" ? 0 : event.key === "End" ? words.length - 1 : index + (step || 0);
    if (to === index || to < 0 || to >= words.length) return;
    event.preventDefault();
    words[index].tabIndex = -1;
    words[to].tabIndex = 0;
    words[to].focus();
  });
  text.addEventListener("click", (event) => {
    const word = event.target.closest("button.w");
    if (!word) return;
    for (const other of words) other.tabIndex = other === word ? 0 : -1;
    open(Number(word.dataset.token), word);
  });

  function tokenClasses() {
    const above = new Set((current.level?.words_above || []).map((w) => w.toLowerCase()));
    for (const word of words) {
      const token = current.tokens[Number(word.dataset.token)];
      word.className = `w s-${token.status}`;
      word.classList.toggle("review", Boolean(token.review));
      word.classList.toggle("above", above.has(token.lemma.toLowerCase()));
    }
  }

  function showFigures() {
    const level = current.level;
    const parts = [];
    if (level) {
      if (level.estimated_level) {
        parts.push(
          h("li", {}, `Level ${level.estimated_level}${level.on_level ? "" : " (above your level)"}`),
        );
      }
      if (level.known_share !== null) {
        parts.push(h("li", {}, `You know ${Math.round(level.known_share * 100)}% of its words`));
      }
      parts.push(h("li", {}, `${level.new_words} new word${level.new_words === 1 ? "" : "s"}`));
    }
    if (current.review_words?.length) {
      parts.push(h("li", {}, `Review: ${current.review_words.join(", ")}`));
    }
    figures.replaceChildren(...(parts.length ? [h("ul", { "aria-label": "This passage" }, parts)] : []));
  }

  async function refresh() {
    current = await reload();
    tokenClasses();
    showFigures();
  }

  let opened = null;

  function open(position, button) {
    opened = { position, button };
    const token = current.tokens[position];
    const notes = [];
    if (token.review) notes.push("one of your review words");
    if ((current.level?.words_above || []).includes(token.lemma)) notes.push("above your level");
    const choices = h(
      "div",
      { role: "group", "aria-label": `Status of “${token.lemma}”`, class: "statuses" },
      STATUSES.map(([status, label]) =>
        h(
          "button",
          {
            type: "button",
            class: `s-${status}`,
            "aria-pressed": String(token.status === status),
            onclick: () => setStatus(token, status),
          },
          label,
        ),
      ),
    );
    panel.replaceChildren(
      h("p", { class: "lemma", lang: language }, h("strong", {}, token.text), ` — ${token.lemma}`),
      h("p", {}, POS[token.pos] || token.pos.toLowerCase(), notes.length ? ` · ${notes.join(" · ")}` : ""),
      choices,
      h("button", { type: "button", class: "close", onclick: close }, "Close"),
    );
    // Under the sentence of the word, where the eyes are.
    sentences[token.sentence]?.after(panel);
    panel.hidden = false;
    choices.querySelector('[aria-pressed="true"]')?.focus();
  }

  function close() {
    panel.hidden = true;
    opened?.button.focus();
    opened = null;
  }

  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });

  async function setStatus(token, status) {
    report(problems, null);
    try {
      if (status === "new") {
        if (token.word_id) await api(`/api/words/${token.word_id}`, { method: "DELETE" });
      } else {
        let id = token.word_id;
        if (!id) {
          const body = token.id ? { token_id: token.id } : { language, lemma: token.lemma };
          id = (await api("/api/words", { method: "POST", body })).id;
        }
        if (status !== "learning" || token.word_id) {
          await api(`/api/words/${id}`, { method: "PATCH", body: { status } });
        }
      }
      await refresh();
      announce(`“${token.lemma}” is ${status} now`);
      if (opened) open(opened.position, opened.button);
    } catch (error) {
      report(problems, error);
    }
  }

  const known =
    knownPath &&
    h(
      "button",
      {
        type: "button",
        onclick: async () => {
          report(problems, null);
          try {
            const result = await api(knownPath, { method: "POST" });
            await refresh();
            announce(`${result.marked_known} words marked known`);
          } catch (error) {
            report(problems, error);
          }
        },
      },
      "Mark the rest as known",
    );

  const player = audioPlayer(current.audio, current.sentences, sentences);
  tokenClasses();
  showFigures();
  const legend = h(
    "details",
    { class: "legend" },
    h("summary", {}, "What the colours mean"),
    h(
      "ul",
      {},
      h("li", {}, h("span", { class: "w s-new" }, "blue"), ": new to you"),
      h("li", {}, h("span", { class: "w s-learning" }, "yellow, dotted"), ": learning (saved)"),
      h("li", {}, h("span", { class: "w s-known" }, "plain"), ": known"),
      h("li", {}, h("span", { class: "w s-ignored" }, "struck through"), ": ignored"),
      h("li", {}, h("span", { class: "w review" }, "underlined"), ": one of your review words"),
      h("li", {}, h("span", { class: "w above" }, "wavy line"), ": above your level"),
    ),
  );
  const element = h(
    "div",
    { class: "reading" },
    figures,
    legend,
    player.element,
    text,
    problems,
    known ? h("p", { class: "actions" }, known) : null,
  );
  return { element, stop: player.stop };
}

// The passage's audio: play and pause, the speed, the sentence being read
// highlighted, a sentence heard again on its own.
function audioPlayer(audio, sentences, lines) {
  if (!audio) return { element: h("p", { class: "meta" }, "No audio for this passage yet."), stop() {} };
  const element = h("audio", { preload: "metadata", src: audio.url });
  const time = h("span", { class: "time", "aria-hidden": "true" }, `0:00 / ${clock(audio.duration_ms)}`);
  const play = h("button", { type: "button", class: "primary", "aria-pressed": "false" }, "Play");
  const speed = h(
    "select",
    { "aria-label": "Speed" },
    [1, 0.85, 0.7, 0.5].map((rate) => h("option", { value: rate }, `${rate}×`)),
  );
  let stopAt = null;
  let previous = -1;

  play.addEventListener("click", () => {
    stopAt = null;
    if (element.paused) element.play().catch((error) => announce(String(error)));
    else element.pause();
  });
  speed.addEventListener("change", () => {
    element.playbackRate = Number(speed.value);
  });
  // A browser that cannot change the rate keeps it at 1: no choice to offer.
  try {
    element.playbackRate = 0.5;
    if (element.playbackRate !== 0.5) speed.hidden = true;
    element.playbackRate = 1;
  } catch {
    speed.hidden = true;
  }
  const playing = (on) => {
    play.textContent = on ? "Pause" : "Play";
    play.setAttribute("aria-pressed", String(on));
  };
  element.addEventListener("play", () => playing(true));
  element.addEventListener("pause", () => playing(false));
  element.addEventListener("ended", () => {
    playing(false);
    highlight(-1);
  });
  element.addEventListener("error", () => {
    bar.append(errorBox(new Error("The audio could not be loaded.")));
  });

  function highlight(index) {
    if (index === previous) return;
    lines[previous]?.classList.remove("current");
    lines[previous]?.removeAttribute("aria-current");
    previous = index;
    if (index < 0) return;
    lines[index].classList.add("current");
    lines[index].setAttribute("aria-current", "true");
    const box = lines[index].getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) lines[index].scrollIntoView({ block: "center" });
  }

  element.addEventListener("timeupdate", () => {
    const ms = element.currentTime * 1000;
    time.textContent = `${clock(ms)} / ${clock(audio.duration_ms)}`;
    if (stopAt !== null && ms >= stopAt) {
      stopAt = null;
      element.pause();
      return;
    }
    highlight(sentences.findIndex((s) => s.start_ms !== null && s.start_ms <= ms && ms < s.end_ms));
  });

  const bar = h("div", { class: "player", role: "group", "aria-label": "Audio" }, play, speed, time, element);
  return {
    element: bar,
    sentence(index) {
      const sentence = sentences[index];
      element.currentTime = sentence.start_ms / 1000;
      stopAt = sentence.end_ms;
      element.play().catch((error) => announce(String(error)));
    },
    stop() {
      element.pause();
    },
  };
}
