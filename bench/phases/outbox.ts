// What the outbox costs requests when its receivers misbehave: `me` p99 while a webhook receiver
// hangs, and while the mail server hangs under a burst of registrations and mail requests.
import { newAccount } from "../../harness/accounts.js";
import { errorCodes, graphql, mutations } from "../../harness/graphql.js";
import { HungMailServer, TestMailServer } from "../../harness/mail-servers.js";
import { newWebhookSecret, WebhookReceiver } from "../../harness/webhooks.js";
import { ms, round, type Bench } from "../bench.js";
import { drive, graphqlCall, percentile, type HttpCall } from "../load.js";
import type { Served } from "../processes.js";
import type { Figure } from "../report.js";

/** `me` requests per second, well below capacity, so that its p99 shows interference rather than queueing. */
const tailRate = 300;
/** Renames per second while the webhook receiver answers or hangs: each is a `user.username_changed` event. */
const renameRate = 20;
const accountCount = 20;

const changeUsername = `mutation($newUsername: String!) { changeUsername(newUsername: $newUsername) { id } }`;
const requestEmailVerification = "mutation { requestEmailVerification }";

interface Account {
  username: string;
  accessToken: string;
}

/** The mail server on one port: a working SMTP server, or a hung one in its place. */
class SwitchableMailServer {
  private constructor(
    readonly port: number,
    private current: TestMailServer | HungMailServer,
  ) {}

  static async start(): Promise<SwitchableMailServer> {
    const working = await TestMailServer.start();
    return new SwitchableMailServer(working.port, working);
  }

  async hang(): Promise<void> {
    await this.current.close();
    this.current = await HungMailServer.start(this.port);
  }

  async answer(): Promise<void> {
    await this.current.close();
    this.current = await TestMailServer.start({ port: this.port });
  }

  close(): Promise<void> {
    return this.current.close();
  }
}

/** The median round by `ratio`: a burst of other work on the machine spoils one round, not the figure. */
function medianRound<T extends { ratio: number }>(rounds: T[]): T {
  return [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)]!;
}

async function registerAccounts(subgraph: Served): Promise<Account[]> {
  const accounts: Account[] = [];
  for (let index = 0; index < accountCount; index++) {
    const account = newAccount("events");
    const response = await graphql(subgraph.url, mutations.register, { input: account });
    if (response.errors) throw new Error(`register failed: ${errorCodes(response).join()}`);
    accounts.push({ username: account.username, accessToken: response.data!.register.accessToken });
  }
  return accounts;
}

/** 30 registers and 30 requestEmailVerification at once, half a second into the window; every one must be answered without an error. */
async function mailBurst(subgraph: Served, accounts: Account[]): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 500));
  const answers = await Promise.all([
    ...Array.from({ length: 30 }, () => graphql(subgraph.url, mutations.register, { input: newAccount("burst") })),
    ...Array.from({ length: 30 }, (_, index) =>
      graphql(subgraph.url, requestEmailVerification, {}, { token: accounts[index % accounts.length]!.accessToken }),
    ),
  ]);
  const failed = answers.find((answer) => answer.errors);
  if (failed) throw new Error(`a request of the mail burst failed: ${errorCodes(failed).join()}`);
}

/** `me` p99 over one window of `seconds` with `alongside` running meanwhile; renames that make events. */
function tailsOf(subgraph: Served, accounts: Account[], seconds: number) {
  const meCalls = accounts.map((account) => graphqlCall({ query: mutations.me, token: account.accessToken }));
  let renames = 0;
  const renameCall = (): HttpCall => {
    const account = accounts[renames % accounts.length]!;
    const variables = { newUsername: `${account.username}_${++renames}` };
    return graphqlCall({ query: changeUsername, variables, token: account.accessToken });
  };
  return {
    renames: () => renames,
    meTail: async (alongside: () => Promise<unknown> = async () => {}, durationSeconds = seconds): Promise<number> => {
      const steadyMe = { calls: meCalls, connections: 2, rate: tailRate, durationSeconds };
      const [me] = await Promise.all([drive({ baseUrl: subgraph.baseUrl, ...steadyMe }), alongside()]);
      return percentile(me.latenciesMs, 99);
    },
    withEvents: () =>
      drive({
        baseUrl: subgraph.baseUrl,
        calls: renameCall,
        connections: 1,
        rate: renameRate,
        durationSeconds: seconds,
      }),
  };
}

/**
 * A subgraph of its own whose events go to a webhook receiver and whose mail goes to an SMTP server,
 * both in this process, each made to hang in turn, in alternating rounds.
 */
export async function outboxFigures(bench: Bench): Promise<Figure[]> {
  const { plan } = bench;
  const secret = newWebhookSecret();
  const receiver = await WebhookReceiver.start(secret);
  const mail = await SwitchableMailServer.start();
  const subgraph = await bench.startSubgraph({
    EVENT_WEBHOOK_URLS: receiver.url,
    EVENT_WEBHOOK_SECRET: secret,
    SMTP_URL: `smtp://127.0.0.1:${mail.port}`,
    SMTP_TIMEOUT: "2s",
  });
  try {
    const accounts = await registerAccounts(subgraph);
    const tails = tailsOf(subgraph, accounts, plan.tail);
    await tails.meTail(undefined, plan.warmup);
    const webhookRounds = [];
    for (let i = 0; i < plan.tailRounds; i++) {
      receiver.mode = { status: 204 };
      const answering = await tails.meTail(tails.withEvents);
      receiver.mode = "hang";
      const hanging = await tails.meTail(tails.withEvents);
      webhookRounds.push({ answering, hanging, ratio: hanging / answering });
    }
    receiver.mode = { status: 204 };
    const mailRounds = [];
    for (let i = 0; i < plan.tailRounds; i++) {
      const idle = await tails.meTail();
      await mail.hang();
      const hung = await tails.meTail(() => mailBurst(subgraph, accounts));
      await mail.answer();
      const working = await tails.meTail(() => mailBurst(subgraph, accounts));
      mailRounds.push({ idle, hung, working, ratio: hung / idle });
    }
    return outboxRows(medianRound(webhookRounds), medianRound(mailRounds), tails.renames());
  } finally {
    await subgraph.stop();
    await receiver.close();
    await mail.close();
  }
}

function outboxRows(
  webhook: { answering: number; hanging: number; ratio: number },
  mail: { idle: number; hung: number; working: number; ratio: number },
  events: number,
): Figure[] {
  return [
    {
      id: "meHangingWebhookTailRatio",
      label: "`me` p99 with a hanging webhook receiver ÷ answering",
      value: round(webhook.ratio),
      goal: { comparison: "≤", target: 1.2 },
      basis: `${ms(webhook.hanging)} / ${ms(webhook.answering)}, ${tailRate} me/s beside ${renameRate} events/s (renames); ${events} events in all`,
    },
    {
      id: "meHungMailTailRatio",
      label: "`me` p99 during a hung mail server ÷ idle",
      value: round(mail.ratio),
      goal: { comparison: "≤", target: 1.5 },
      basis: `${ms(mail.hung)} / ${ms(mail.idle)}, 30 registers + 30 requestEmailVerification at once, all answered; the same burst with a working mail server: ${ms(mail.working)}`,
    },
  ];
}
