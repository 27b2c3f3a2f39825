"""A short story written in six languages, sentence for sentence.

The stub generator tells it; the stub translator translates by looking each
sentence up here, so stub translations are real translations between any two
of these languages.
"""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES = ("en", "es", "fr", "de", "it", "pt")
Row = tuple[str, str, str, str, str, str]  # in the order of LANGUAGES


@dataclass(frozen=True)
class StubChoice:
    text: Row
    # The sentence that opens the next passage when the learner picks it.
    reaction: Row


@dataclass(frozen=True)
class Scene:
    sentences: tuple[Row, ...]
    choices: tuple[StubChoice, ...]


TITLE: Row = (
    "The Lighthouse on the Cliff",
    "El faro del acantilado",
    "Le phare de la falaise",
    "Der Leuchtturm auf der Klippe",
    "Il faro sulla scogliera",
    "O farol da falésia",
)

SCENES: tuple[Scene, ...] = (
    Scene(
        sentences=(
            (
                "It is a cold morning in a small fishing village.",
                "Es una mañana fría en un pequeño pueblo de pescadores.",
                "C'est un matin froid dans un petit village de pêcheurs.",
                "Es ist ein kalter Morgen in einem kleinen Fischerdorf.",
                "È una mattina fredda in un piccolo villaggio di pescatori.",
                "É uma manhã fria numa pequena aldeia de pescadores.",
            ),
            (
                "An old woman gives you a heavy key.",
                "Una anciana te da una llave pesada.",
                "Une vieille femme te donne une lourde clé.",
                "Eine alte Frau gibt dir einen schweren Schlüssel.",
                "Un'anziana signora ti dà una chiave pesante.",
                "Uma senhora idosa dá-te uma chave pesada.",
            ),
            (
                "She says that the lighthouse on the cliff has been dark for ten years.",
                "Dice que el faro del acantilado lleva diez años apagado.",
                "Elle dit que le phare de la falaise est éteint depuis dix ans.",
                "Sie sagt, dass der Leuchtturm auf der Klippe seit zehn Jahren dunkel ist.",
                "Dice che il faro sulla scogliera è spento da dieci anni.",
                "Ela diz que o farol da falésia está apagado há dez anos.",
            ),
            (
                "Why did she choose you?",
                "¿Por qué te ha elegido a ti?",
                "Pourquoi t'a-t-elle choisi ?",
                "Warum hat sie dich gewählt?",
                "Perché ha scelto proprio te?",
                "Porque é que ela te escolheu?",
            ),
        ),
        choices=(
            StubChoice(
                (
                    "Walk to the lighthouse along the beach.",
                    "Caminar hacia el faro por la playa.",
                    "Marcher vers le phare le long de la plage.",
                    "Am Strand entlang zum Leuchtturm gehen.",
                    "Camminare verso il faro lungo la spiaggia.",
                    "Caminhar até ao farol pela praia.",
                ),
                (
                    "You walk along the beach while the waves cover your footprints.",
                    "Caminas por la playa mientras las olas borran tus huellas.",
                    "Tu marches sur la plage pendant que les vagues effacent tes traces.",
                    "Du gehst am Strand entlang, während die Wellen deine Spuren verwischen.",
                    "Cammini lungo la spiaggia mentre le onde cancellano le tue impronte.",
                    "Caminhas pela praia enquanto as ondas apagam as tuas pegadas.",
                ),
            ),
            StubChoice(
                (
                    "Ask the fishermen in the harbour about the key.",
                    "Preguntar a los pescadores del puerto por la llave.",
                    "Interroger les pêcheurs du port sur la clé.",
                    "Die Fischer im Hafen nach dem Schlüssel fragen.",
                    "Chiedere ai pescatori del porto della chiave.",
                    "Perguntar aos pescadores do porto pela chave.",
                ),
                (
                    "The fishermen laugh, but one of them draws a map for you.",
                    "Los pescadores se ríen, pero uno de ellos te dibuja un mapa.",
                    "Les pêcheurs rient, mais l'un d'eux te dessine une carte.",
                    "Die Fischer lachen, aber einer von ihnen zeichnet dir eine Karte.",
                    "I pescatori ridono, ma uno di loro ti disegna una mappa.",
                    "Os pescadores riem-se, mas um deles desenha-te um mapa.",
                ),
            ),
            StubChoice(
                (
                    "Follow the old woman to her house.",
                    "Seguir a la anciana hasta su casa.",
                    "Suivre la vieille femme jusqu'à sa maison.",
                    "Der alten Frau zu ihrem Haus folgen.",
                    "Seguire l'anziana signora fino a casa sua.",
                    "Seguir a senhora idosa até à casa dela.",
                ),
                (
                    "The old woman closes her door, but she leaves a lantern outside for you.",
                    "La anciana cierra la puerta, pero deja una linterna fuera para ti.",
                    "La vieille femme ferme sa porte, mais elle laisse une lanterne dehors pour toi.",
                    "Die alte Frau schließt ihre Tür, aber sie lässt eine Laterne für dich draußen stehen.",
                    "L'anziana signora chiude la porta, ma lascia una lanterna fuori per te.",
                    "A senhora fecha a porta, mas deixa uma lanterna lá fora para ti.",
                ),
            ),
        ),
    ),
    Scene(
        sentences=(
            (
                "The path to the cliff is narrow and steep.",
                "El camino al acantilado es estrecho y empinado.",
                "Le chemin vers la falaise est étroit et raide.",
                "Der Weg zur Klippe ist schmal und steil.",
                "Il sentiero verso la scogliera è stretto e ripido.",
                "O caminho para a falésia é estreito e íngreme.",
            ),
            (
                "At the top, you see the lighthouse door, covered in salt and rust.",
                "Arriba ves la puerta del faro, cubierta de sal y óxido.",
                "En haut, tu vois la porte du phare, couverte de sel et de rouille.",
                "Oben siehst du die Tür des Leuchtturms, bedeckt mit Salz und Rost.",
                "In cima vedi la porta del faro, coperta di sale e ruggine.",
                "Lá em cima vês a porta do farol, coberta de sal e ferrugem.",
            ),
            (
                "Someone has written a number on the wall: 1907.",
                "Alguien ha escrito un número en la pared: 1907.",
                "Quelqu'un a écrit un nombre sur le mur : 1907.",
                "Jemand hat eine Zahl an die Wand geschrieben: 1907.",
                "Qualcuno ha scritto un numero sul muro: 1907.",
                "Alguém escreveu um número na parede: 1907.",
            ),
        ),
        choices=(
            StubChoice(
                (
                    "Open the door with the key.",
                    "Abrir la puerta con la llave.",
                    "Ouvrir la porte avec la clé.",
                    "Die Tür mit dem Schlüssel öffnen.",
                    "Aprire la porta con la chiave.",
                    "Abrir a porta com a chave.",
                ),
                (
                    "The key turns slowly, and the door opens with a long sigh.",
                    "La llave gira despacio y la puerta se abre con un largo suspiro.",
                    "La clé tourne lentement et la porte s'ouvre avec un long soupir.",
                    "Der Schlüssel dreht sich langsam, und die Tür öffnet sich mit einem langen Seufzer.",
                    "La chiave gira lentamente e la porta si apre con un lungo sospiro.",
                    "A chave roda devagar e a porta abre-se com um longo suspiro.",
                ),
            ),
            StubChoice(
                (
                    "Walk around the lighthouse first.",
                    "Dar primero una vuelta alrededor del faro.",
                    "Faire d'abord le tour du phare.",
                    "Zuerst um den Leuchtturm herumgehen.",
                    "Fare prima il giro del faro.",
                    "Dar primeiro uma volta ao farol.",
                ),
                (
                    "Behind the lighthouse you find a small window and, through it, a light that moves.",
                    "Detrás del faro encuentras una ventana pequeña y, a través de ella, una luz que se mueve.",
                    "Derrière le phare, tu trouves une petite fenêtre et, à travers elle, une lumière qui bouge.",
                    "Hinter dem Leuchtturm findest du ein kleines Fenster und dahinter ein Licht, das sich bewegt.",
                    "Dietro il faro trovi una piccola finestra e, attraverso di essa, una luce che si muove.",
                    "Atrás do farol encontras uma pequena janela e, através dela, uma luz que se move.",
                ),
            ),
        ),
    ),
    Scene(
        sentences=(
            (
                "Inside, a spiral staircase climbs into the darkness.",
                "Dentro, una escalera de caracol sube hacia la oscuridad.",
                "À l'intérieur, un escalier en colimaçon monte dans l'obscurité.",
                "Drinnen führt eine Wendeltreppe in die Dunkelheit hinauf.",
                "Dentro, una scala a chiocciola sale nel buio.",
                "Lá dentro, uma escada em caracol sobe para a escuridão.",
            ),
            (
                "On the first step there is a letter with your name on it.",
                "En el primer escalón hay una carta con tu nombre.",
                "Sur la première marche, il y a une lettre avec ton nom.",
                "Auf der ersten Stufe liegt ein Brief mit deinem Namen.",
                "Sul primo gradino c'è una lettera con il tuo nome.",
                "No primeiro degrau há uma carta com o teu nome.",
            ),
            (
                "You hear footsteps above you.",
                "Oyes pasos encima de ti.",
                "Tu entends des pas au-dessus de toi.",
                "Du hörst Schritte über dir.",
                "Senti dei passi sopra di te.",
                "Ouves passos por cima de ti.",
            ),
        ),
        choices=(
            StubChoice(
                (
                    "Read the letter.",
                    "Leer la carta.",
                    "Lire la lettre.",
                    "Den Brief lesen.",
                    "Leggere la lettera.",
                    "Ler a carta.",
                ),
                (
                    "The letter says that the light must shine again before the storm arrives tonight.",
                    "La carta dice que la luz debe brillar otra vez antes de que llegue la tormenta esta noche.",
                    "La lettre dit que la lumière doit briller à nouveau avant l'arrivée de la tempête ce soir.",
                    "Im Brief steht, dass das Licht wieder leuchten muss, bevor heute Nacht der Sturm kommt.",
                    "La lettera dice che la luce deve brillare di nuovo prima che arrivi la tempesta stanotte.",
                    "A carta diz que a luz tem de brilhar outra vez antes de a tempestade chegar esta noite.",
                ),
            ),
            StubChoice(
                (
                    "Call out to the person upstairs.",
                    "Llamar a la persona que está arriba.",
                    "Appeler la personne qui est en haut.",
                    "Die Person oben rufen.",
                    "Chiamare la persona al piano di sopra.",
                    "Chamar a pessoa que está lá em cima.",
                ),
                (
                    "A young man answers: he is the grandson of the last lighthouse keeper.",
                    "Un joven responde: es el nieto del último farero.",
                    "Un jeune homme répond : il est le petit-fils du dernier gardien de phare.",
                    "Ein junger Mann antwortet: Er ist der Enkel des letzten Leuchtturmwärters.",
                    "Un giovane risponde: è il nipote dell'ultimo guardiano del faro.",
                    "Um jovem responde: é o neto do último faroleiro.",
                ),
            ),
            StubChoice(
                (
                    "Climb the stairs in silence.",
                    "Subir las escaleras en silencio.",
                    "Monter l'escalier en silence.",
                    "Leise die Treppe hinaufsteigen.",
                    "Salire le scale in silenzio.",
                    "Subir as escadas em silêncio.",
                ),
                (
                    "You climb in silence and count one hundred and twenty steps.",
                    "Subes en silencio y cuentas ciento veinte escalones.",
                    "Tu montes en silence et tu comptes cent vingt marches.",
                    "Du steigst leise hinauf und zählst hundertzwanzig Stufen.",
                    "Sali in silenzio e conti centoventi gradini.",
                    "Sobes em silêncio e contas cento e vinte degraus.",
                ),
            ),
        ),
    ),
    Scene(
        sentences=(
            (
                "At the top, the great lamp is covered with dust.",
                "Arriba, la gran lámpara está cubierta de polvo.",
                "En haut, la grande lampe est couverte de poussière.",
                "Oben ist die große Lampe mit Staub bedeckt.",
                "In cima, la grande lampada è coperta di polvere.",
                "Lá em cima, a grande lâmpada está coberta de pó.",
            ),
            (
                "Through the glass you see dark clouds over the sea.",
                "A través del cristal ves nubes oscuras sobre el mar.",
                "À travers la vitre, tu vois des nuages sombres sur la mer.",
                "Durch das Glas siehst du dunkle Wolken über dem Meer.",
                "Attraverso il vetro vedi nuvole scure sul mare.",
                "Através do vidro vês nuvens escuras sobre o mar.",
            ),
            (
                "A small boat is trying to reach the harbour.",
                "Un barco pequeño intenta llegar al puerto.",
                "Un petit bateau essaie d'atteindre le port.",
                "Ein kleines Boot versucht, den Hafen zu erreichen.",
                "Una piccola barca cerca di raggiungere il porto.",
                "Um pequeno barco tenta chegar ao porto.",
            ),
        ),
        choices=(
            StubChoice(
                (
                    "Clean the lamp and light it.",
                    "Limpiar la lámpara y encenderla.",
                    "Nettoyer la lampe et l'allumer.",
                    "Die Lampe putzen und anzünden.",
                    "Pulire la lampada e accenderla.",
                    "Limpar a lâmpada e acendê-la.",
                ),
                (
                    "With your sleeve you clean the glass, and the old lamp starts to glow.",
                    "Con la manga limpias el cristal y la vieja lámpara empieza a brillar.",
                    "Avec ta manche, tu nettoies la vitre et la vieille lampe commence à briller.",
                    "Mit dem Ärmel putzt du das Glas, und die alte Lampe beginnt zu leuchten.",
                    "Con la manica pulisci il vetro e la vecchia lampada comincia a brillare.",
                    "Com a manga limpas o vidro e a velha lâmpada começa a brilhar.",
                ),
            ),
            StubChoice(
                (
                    "Signal to the boat with the lantern.",
                    "Hacer señales al barco con la linterna.",
                    "Faire des signaux au bateau avec la lanterne.",
                    "Dem Boot mit der Laterne Zeichen geben.",
                    "Fare segnali alla barca con la lanterna.",
                    "Fazer sinais ao barco com a lanterna.",
                ),
                (
                    "You swing the lantern from side to side, and the boat turns towards the light.",
                    "Mueves la linterna de un lado a otro y el barco gira hacia la luz.",
                    "Tu balances la lanterne de gauche à droite et le bateau se tourne vers la lumière.",
                    "Du schwenkst die Laterne hin und her, und das Boot dreht sich zum Licht.",
                    "Muovi la lanterna da una parte all'altra e la barca si gira verso la luce.",
                    "Balanças a lanterna de um lado para o outro e o barco vira-se para a luz.",
                ),
            ),
        ),
    ),
)

FINALE = Scene(
    sentences=(
        (
            "The beam of the lighthouse crosses the sea once more.",
            "El haz del faro cruza el mar una vez más.",
            "Le faisceau du phare traverse la mer une fois de plus.",
            "Der Lichtstrahl des Leuchtturms zieht wieder über das Meer.",
            "Il fascio del faro attraversa di nuovo il mare.",
            "O feixe do farol atravessa o mar mais uma vez.",
        ),
        (
            "The small boat enters the harbour safely, and the whole village runs to the beach.",
            "El barco pequeño entra en el puerto sano y salvo, y todo el pueblo corre a la playa.",
            "Le petit bateau entre au port sain et sauf, et tout le village court vers la plage.",
            "Das kleine Boot erreicht sicher den Hafen, und das ganze Dorf läuft zum Strand.",
            "La piccola barca entra sana e salva nel porto e tutto il villaggio corre alla spiaggia.",
            "O pequeno barco entra no porto em segurança e a aldeia inteira corre para a praia.",
        ),
        (
            "The old woman smiles at you: from today, you are the new lighthouse keeper.",
            "La anciana te sonríe: desde hoy, eres el nuevo farero.",
            "La vieille femme te sourit : à partir d'aujourd'hui, tu es le nouveau gardien du phare.",
            "Die alte Frau lächelt dich an: Von heute an bist du der neue Leuchtturmwärter.",
            "L'anziana signora ti sorride: da oggi sei il nuovo guardiano del faro.",
            "A senhora sorri-te: a partir de hoje, és o novo faroleiro.",
        ),
    ),
    choices=(),
)


# Sentences of rare words, for the off-level drill (``STUB_OFF_LEVEL``): the
# stub adds the first to a passage to put it clearly above the learner's level,
# and the second too when the drill says the re-ask must not help either.
OFF_LEVEL: tuple[Row, Row] = (
    (
        "The alchemist scrutinises a rusty astrolabe and an ornate reliquary.",
        "El alquimista escudriña un astrolabio herrumbroso y un relicario ornamentado.",
        "L'alchimiste scrute un astrolabe rouillé et un reliquaire ouvragé.",
        "Der Alchemist mustert ein verrostetes Astrolabium und ein verziertes Reliquiar.",
        "L'alchimista scruta un astrolabio arrugginito e un reliquiario ornato.",
        "O alquimista perscruta um astrolábio ferrugento e um relicário ornamentado.",
    ),
    (
        "A taciturn cartographer annotates palimpsests with cinnabar and vermilion.",
        "Un cartógrafo taciturno anota palimpsestos con cinabrio y bermellón.",
        "Un cartographe taciturne annote des palimpsestes au cinabre et au vermillon.",
        "Ein wortkarger Kartograf beschriftet Palimpseste mit Zinnober und Mennige.",
        "Un cartografo taciturno annota palinsesti con cinabro e vermiglione.",
        "Um cartógrafo taciturno anota palimpsestos com cinábrio e vermelhão.",
    ),
)


def scene_for(position: int, *, is_final: bool) -> Scene:
    """The scene told at ``position`` (1-based); middle scenes repeat in long stories."""
    return FINALE if is_final else SCENES[(position - 1) % len(SCENES)]


def _index() -> dict[str, dict[str, Row]]:
    rows: list[Row] = [TITLE, *OFF_LEVEL]
    for scene in (*SCENES, FINALE):
        rows.extend(scene.sentences)
        for choice in scene.choices:
            rows.extend((choice.text, choice.reaction))
    return {lang: {row[i]: row for row in rows} for i, lang in enumerate(LANGUAGES)}


INDEX = _index()


def translate(text: str, source: str, target: str) -> str | None:
    """The corpus's translation of ``text``, or None if it is not in the corpus."""
    row = INDEX.get(source, {}).get(text)
    if row is None or target not in LANGUAGES:
        return None
    return row[LANGUAGES.index(target)]
