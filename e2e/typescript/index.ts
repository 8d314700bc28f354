// A TypeScript program that uses the fluxcd-otel component through the SDK generated from its
// schema, as a user's program would after `pulumi package add`. It runs through the Automation
// API's inline program: @pulumi/pulumi serves the language runtime from this process, since no
// Node.js language host is built here (docs/real-tier.md).
//
//   node bin/index.js SETTINGS.json     prints one JSON line: the result of the action
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import * as k8s from "@pulumi/kubernetes";
import * as fluxcdOtel from "@pulumi/fluxcd-otel";

interface Settings {
    action: "preview" | "up" | "destroy";
    project: string;
    stack: string;
    workDir: string;
    cliRoot: string;
    pluginDir: string;
    envVars: Record<string, string>;
    config: Record<string, string>;
}

// The dev stack's configuration (stacks/Pulumi.dev.yaml), with the cluster and chart repository
// from the stack's config.
const program = async () => {
    const config = new pulumi.Config();
    const repository = config.require("chartRepository");
    const cluster = new k8s.Provider("cluster", { kubeconfig: config.require("kubeconfigPath") });
    const flux = new fluxcdOtel.FluxObservability("flux-observability", {
        clusterName: "dev",
        mode: fluxcdOtel.Mode.COLLECTOR,
        exporter: { type: fluxcdOtel.ExporterType.DEBUG, verbosity: fluxcdOtel.ExporterVerbosity.BASIC },
        flux: { namespace: config.get("fluxNamespace") ?? "flux-system" },
        gateway: { replicas: 1, scrapeInterval: "30s", chartRepository: repository },
        objectHealth: { chartRepository: repository },
        alerts: { enabled: false },
        dashboards: { enabled: false },
    }, { providers: [cluster] });
    return { traceServiceName: flux.traceServiceName };
};

async function main(): Promise<void> {
    const settings: Settings = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName: settings.stack, projectName: settings.project, program },
        {
            workDir: settings.workDir,
            pulumiCommand: await PulumiCommand.get({ root: settings.cliRoot, skipVersionCheck: true }),
            envVars: settings.envVars,
            // What `pulumi package add` records for a local package; ProjectSettings has no typed key.
            projectSettings: { name: settings.project, runtime: "nodejs", ["packages" as string]: { "fluxcd-otel": settings.pluginDir } },
        },
    );
    await stack.setAllConfig(Object.fromEntries(Object.entries(settings.config).map(([key, value]) => [key, { value }])));
    let output = "";
    const onOutput = (text: string) => { output += text; };
    try {
        if (settings.action === "preview") {
            const result = await stack.preview({ onOutput, color: "never" });
            console.log(JSON.stringify({ ok: true, changeSummary: result.changeSummary, output }));
        } else if (settings.action === "up") {
            const result = await stack.up({ onOutput, color: "never" });
            console.log(JSON.stringify({ ok: true, changeSummary: result.summary.resourceChanges, outputs: result.outputs, output }));
        } else {
            const result = await stack.destroy({ onOutput, color: "never" });
            console.log(JSON.stringify({ ok: true, changeSummary: result.summary.resourceChanges, output }));
        }
    } catch (error) {
        console.log(JSON.stringify({ ok: false, error: String(error), output }));
    }
}

main();
