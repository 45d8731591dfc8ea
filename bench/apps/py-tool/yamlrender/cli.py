"""Command line: yamlrender VALUES.yaml [TEMPLATE] prints the rendered template.

Without TEMPLATE, the template is the `template` key of the YAML file.
"""

import argparse
import sys

import jinja2
import yaml


def render(values, template_text):
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["upper_first"] = lambda s: s[:1].upper() + s[1:]
    return env.from_string(template_text).render(**values)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="yamlrender", description=__doc__.splitlines()[0])
    parser.add_argument("values", help="a YAML file with the template's values")
    parser.add_argument("template", nargs="?", help="a Jinja2 template file")
    args = parser.parse_args(argv)

    with open(args.values, encoding="utf-8") as f:
        values = yaml.safe_load(f) or {}
    if args.template:
        with open(args.template, encoding="utf-8") as f:
            template_text = f.read()
    else:
        template_text = values.pop("template", None)
        if template_text is None:
            parser.error(f"{args.values} has no template key and no TEMPLATE was given")
    try:
        sys.stdout.write(render(values, template_text))
    except jinja2.TemplateError as err:
        print(f"yamlrender: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
