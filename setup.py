# nbdev's standard setup.py: everything comes from settings.ini.
from configparser import ConfigParser
import pathlib, shlex, shutil
import setuptools
from setuptools.command.build_py import build_py

class BuildWithRegistry(build_py):
    """Ship reproductions/papers.yaml and reproductions/settings/*.yaml inside the package (spanrl/registry/), so a plain
    `pip install .` reads the registry and settings without the checkout; reproductions/ stays their one source."""
    def run(self):
        super().run()
        dest = pathlib.Path(self.build_lib) / 'spanrl' / 'registry'
        (dest / 'settings').mkdir(parents=True, exist_ok=True)
        shutil.copy('reproductions/papers.yaml', dest)
        for p in pathlib.Path('reproductions/settings').glob('*.yaml'): shutil.copy(p, dest / 'settings')

config = ConfigParser(delimiters=['='])
config.read('settings.ini', encoding='utf-8')
cfg = config['DEFAULT']

cfg_keys = 'version description keywords author author_email'.split()
expected = cfg_keys + "lib_name user branch license status min_python audience language".split()
for o in expected: assert o in cfg, "missing expected setting: {}".format(o)
setup_cfg = {o: cfg[o] for o in cfg_keys}

statuses = ['1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable', '6 - Mature', '7 - Inactive']
py_versions = '3.10 3.11 3.12 3.13'.split()

requirements = shlex.split(cfg.get('requirements', ''))
dev_requirements = shlex.split(cfg.get('dev_requirements', ''))
min_python = cfg['min_python']
console_scripts = cfg.get('console_scripts', '').split()

setuptools.setup(
    name=cfg['lib_name'],
    license='Apache-2.0',
    classifiers=['Development Status :: ' + statuses[int(cfg['status'])],
                 'Intended Audience :: ' + cfg['audience'].title(),
                 'Natural Language :: ' + cfg['language'].title()]
                + ['Programming Language :: Python :: ' + o for o in py_versions[py_versions.index(min_python):]],
    url=cfg['git_url'],
    packages=setuptools.find_packages(include=['spanrl', 'spanrl.*']),
    include_package_data=True,
    install_requires=requirements,
    extras_require={'dev': dev_requirements},
    python_requires='>=' + cfg['min_python'],
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    zip_safe=False,
    cmdclass={'build_py': BuildWithRegistry},
    entry_points={'console_scripts': console_scripts,
                  'nbdev': [f'{cfg.get("lib_path")}={cfg.get("lib_path")}._modidx:d']},
    **setup_cfg)
